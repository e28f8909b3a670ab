"""A small ADS client over a real gRPC channel, for tests and the benchmark."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import grpc
from envoy.service.discovery.v3 import ads_pb2_grpc
from envoy.service.discovery.v3 import discovery_pb2 as envoy_discovery

from reconciler.resource_types import TypeUrl

CHANNEL_OPTIONS = (
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.use_local_subchannel_pool", 1),
)


class AdsClient:
    """One ADS stream (SotW or Delta) with explicit send/receive."""

    def __init__(
        self, target: str, node_id: str, *, delta: bool = False, token: str | None = None
    ) -> None:
        """``token``: a proxy token, sent as ``authorization: Bearer <token>`` metadata."""
        self.channel = grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS)
        stub = ads_pb2_grpc.AggregatedDiscoveryServiceStub(self.channel)
        self.delta = delta
        metadata = (("authorization", f"Bearer {token}"),) if token else None
        self.call = (
            stub.DeltaAggregatedResources(metadata=metadata)
            if delta
            else stub.StreamAggregatedResources(metadata=metadata)
        )
        self.node_id = node_id
        self._node_sent = False
        self._inbox: asyncio.Queue[Any] = asyncio.Queue()
        self._reader: asyncio.Future[None] | None = None

    def _node(self, request: Any) -> None:
        if not self._node_sent:
            request.node.id = self.node_id
            request.node.cluster = "test"
            self._node_sent = True

    async def request(
        self,
        type_url: TypeUrl,
        names: Iterable[str] = (),
        *,
        version: str = "",
        nonce: str = "",
        error: str | None = None,
    ) -> None:
        """A SotW DiscoveryRequest."""
        req = envoy_discovery.DiscoveryRequest(
            type_url=str(type_url),
            resource_names=list(names),
            version_info=version,
            response_nonce=nonce,
        )
        if error is not None:
            req.error_detail.code = 3
            req.error_detail.message = error
        self._node(req)
        await self.call.write(req)

    async def delta_request(
        self,
        type_url: TypeUrl,
        *,
        subscribe: Iterable[str] = (),
        unsubscribe: Iterable[str] = (),
        nonce: str = "",
        error: str | None = None,
        initial: dict[str, str] | None = None,
    ) -> None:
        req = envoy_discovery.DeltaDiscoveryRequest(
            type_url=str(type_url),
            resource_names_subscribe=list(subscribe),
            resource_names_unsubscribe=list(unsubscribe),
            response_nonce=nonce,
            initial_resource_versions=initial or {},
        )
        if error is not None:
            req.error_detail.code = 3
            req.error_detail.message = error
        self._node(req)
        await self.call.write(req)

    async def _read(self) -> None:
        while True:
            try:
                response = await self.call.read()
            except (grpc.RpcError, asyncio.CancelledError):
                response = grpc.aio.EOF
            await self._inbox.put(response)
            if response is grpc.aio.EOF:
                return

    async def recv(self, timeout: float = 5.0) -> Any:
        if self._reader is None:
            self._reader = asyncio.ensure_future(self._read())
        response = await asyncio.wait_for(self._inbox.get(), timeout)
        if response is grpc.aio.EOF:
            raise EOFError("stream closed by the server")
        return response

    async def nothing(self, wait: float = 0.3) -> bool:
        """True if no response arrives within ``wait`` seconds."""
        if self._reader is None:
            self._reader = asyncio.ensure_future(self._read())
        await asyncio.sleep(wait)
        return self._inbox.empty()

    async def ack(self, response: Any, names: Iterable[str] = ()) -> None:
        """ACK ``response`` (SotW: version + nonce; Delta: nonce)."""
        if self.delta:
            await self.delta_request(TypeUrl(response.type_url), nonce=response.nonce)
        else:
            await self.request(
                TypeUrl(response.type_url),
                names,
                version=response.version_info,
                nonce=response.nonce,
            )

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        self.call.cancel()
        await self.channel.close()
