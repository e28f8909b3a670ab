"""The ADS gRPC service (grpc.aio): State-of-the-World and Delta on one port.

Responses leave as pre-encoded bytes (shared resource bytes plus a per-stream nonce), so the
methods are registered with a pass-through serializer instead of the generated one; requests
are parsed by the generated message classes. The servicer subclasses the generated
``AggregatedDiscoveryServiceServicer`` so the method names and signatures stay the contract.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

import grpc
from envoy.service.discovery.v3 import ads_pb2_grpc
from envoy.service.discovery.v3 import discovery_pb2 as envoy_discovery

from reconciler.errors import ServeError
from reconciler.serve.delta import DeltaStream
from reconciler.serve.sotw import SotwStream
from reconciler.serve.stream import ServerContext

log = logging.getLogger("reconciler.serve")

SERVICE = "envoy.service.discovery.v3.AggregatedDiscoveryService"

_SERVER_OPTIONS = (
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.max_receive_message_length", 16 * 1024 * 1024),
    # gRPC sets SO_REUSEPORT by default: a second server on the same port would start and
    # share the connections with the first instead of failing.
    ("grpc.so_reuseport", 0),
)


class AdsServicer(ads_pb2_grpc.AggregatedDiscoveryServiceServicer):  # type: ignore[misc]
    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx

    async def StreamAggregatedResources(self, request_iterator: Any, context: Any) -> None:
        await SotwStream(self.ctx, context).run()  # reads through the context

    async def DeltaAggregatedResources(self, request_iterator: Any, context: Any) -> None:
        await DeltaStream(self.ctx, context).run()


def _passthrough(body: bytes) -> bytes:
    return body


def add_ads_servicer(servicer: AdsServicer, server: Any) -> None:
    handlers = {
        "StreamAggregatedResources": grpc.stream_stream_rpc_method_handler(
            servicer.StreamAggregatedResources,
            request_deserializer=envoy_discovery.DiscoveryRequest.FromString,
            response_serializer=_passthrough,
        ),
        "DeltaAggregatedResources": grpc.stream_stream_rpc_method_handler(
            servicer.DeltaAggregatedResources,
            request_deserializer=envoy_discovery.DeltaDiscoveryRequest.FromString,
            response_serializer=_passthrough,
        ),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))


async def start_ads_server(ctx: ServerContext, address: str) -> tuple[Any, int]:
    """Start serving ADS on ``address`` (``host:port``, port 0 picks one); returns the port."""
    server = grpc.aio.server(options=_SERVER_OPTIONS)
    add_ads_servicer(AdsServicer(ctx), server)
    # Probe first: gRPC's own bind failure says only "failed" and logs to stderr.
    problem = bind_problem(address)
    try:
        port = 0 if problem else server.add_insecure_port(address)
    except RuntimeError:
        port = 0
    if port == 0:
        raise ServeError(
            f"--xds-address {address}: cannot listen: {problem or 'gRPC could not bind it'}",
            hint="is another server using the port? pick another with --xds-address",
        )
    await server.start()
    log.info("xDS (ADS, SotW and Delta) listening on %s", _with_port(address, port))
    return server, port


def bind_problem(address: str) -> str | None:
    """Why ``address`` cannot be bound, in the system's words; None if it can be."""
    host, _, port_text = address.rpartition(":")
    try:
        infos = socket.getaddrinfo(host.strip("[]"), int(port_text), type=socket.SOCK_STREAM)
    except (OSError, ValueError) as exc:
        return f"cannot resolve the host: {exc}"
    family, kind, proto, _, sockaddr = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # as gRPC does: connections of a previous server in TIME_WAIT do not hold the port
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(sockaddr)
        except OSError as exc:
            return (exc.strerror or str(exc)).lower()
    return None


def _with_port(address: str, port: int) -> str:
    host = address.rsplit(":", 1)[0]
    return f"{host}:{port}"
