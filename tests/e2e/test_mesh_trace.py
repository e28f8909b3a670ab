"""MeshTrace with real Envoys, real HTTP traffic and local span receivers.

Two clients, ``web`` and ``other``, call ``api`` through their outbound listeners. Kuma 2.14
(``meshtrace/plugin/xds/configurer.go``) puts the tracing provider on every inbound and
outbound HTTP connection manager of the selected proxies and adds the collector cluster:

* Zipkin: spans are POSTed as JSON to the URL's path on the collector; each proxy's spans
  name its service (Envoy's ``node.cluster``, Kuma's bootstrap sets the service there), and
  carry the policy's literal tag and Kuma's ``kuma.mesh`` tag;
* OpenTelemetry over gRPC (inline endpoint and a MeshOpenTelemetryBackend ``backendRef``):
  ``ExportTraceServiceRequest``s whose resource ``service.name`` is the proxy's service;
  ``sampling.overall: 0`` traces nothing (Envoy counts each request ``not_traceable``),
  ``100`` traces everything.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from xds_harness import App, Envoy, PlaneThread, free_port, get, serve_mesh, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(150)]
REQUESTS = 6
"""More than Envoy's minimum batch (5 spans): a batch is sent at once, else within 5 s."""
COLLECTOR_HOST = "127.0.0.9"
TRACE_SERVICE = "opentelemetry.proto.collector.trace.v1.TraceService"


class ZipkinReceiver:
    """A Zipkin-compatible collector: ``POST /api/v2/spans`` with a JSON list of spans."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        self.paths: list[str] = []
        lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self._body()
                with lock:
                    receiver.paths.append(self.path)
                    if self.path == "/api/v2/spans":
                        receiver.spans.extend(json.loads(body))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
                    return self.rfile.read(int(self.headers.get("Content-Length") or 0))
                chunks = []
                for _ in range(10_000):  # bounded: a chunked body ends with a 0-size chunk
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                    if size == 0:
                        break
                return b"".join(chunks)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((COLLECTOR_HOST, 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def services(self) -> set[str]:
        return {s.get("localEndpoint", {}).get("serviceName", "") for s in list(self.spans)}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class OtlpReceiver:
    """An OTLP/gRPC trace collector: records each span with its resource's service.name.

    The messages are the OTLP version xds-protos ships (the `opentelemetry` package Envoy's
    protos import); its ``instrumentation_library_spans`` is field 2 on the wire, today's
    ``scope_spans``: the same bytes."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        handler = grpc.method_handlers_generic_handler(
            TRACE_SERVICE,
            {
                "Export": grpc.unary_unary_rpc_method_handler(
                    self.export,
                    request_deserializer=trace_service_pb2.ExportTraceServiceRequest.FromString,
                    response_serializer=(
                        trace_service_pb2.ExportTraceServiceResponse.SerializeToString
                    ),
                )
            },
        )
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        self.server.add_generic_rpc_handlers((handler,))
        self.port = self.server.add_insecure_port(f"{COLLECTOR_HOST}:0")
        self.server.start()

    def export(self, request: Any, context: grpc.ServicerContext) -> Any:
        with self.lock:
            for resource_spans in request.resource_spans:
                attributes = {
                    a.key: a.value.string_value for a in resource_spans.resource.attributes
                }
                service = attributes.get("service.name", "")
                fields = resource_spans.DESCRIPTOR.fields_by_name
                scopes = (
                    resource_spans.scope_spans
                    if "scope_spans" in fields
                    else resource_spans.instrumentation_library_spans
                )
                for scope in scopes:
                    self.spans.extend((service, span.name) for span in scope.spans)
        return trace_service_pb2.ExportTraceServiceResponse()

    def services(self) -> set[str]:
        with self.lock:
            return {service for service, _ in self.spans}

    def stop(self) -> None:
        self.server.stop(0)


class Mesh:
    """web and other -> api, each behind a real Envoy; api answers with its name."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.items: list[Any] = []
        self.api = self.add(App("api"))
        self.addresses = {"web": "127.0.0.2", "other": "127.0.0.5", "api": "127.0.0.3"}
        self.outbound = {
            s: (self.addresses[s], free_port(self.addresses[s])) for s in ("web", "other")
        }
        self.plane = self.add(PlaneThread())
        self.envoys: dict[str, Envoy] = {}

    def add(self, item: Any) -> Any:
        self.items.append(item)
        return item

    def dataplane(self, service: str, app_port: int) -> str:
        address = self.addresses[service]
        outbound = ""
        if service in self.outbound:
            out_address, out_port = self.outbound[service]
            outbound = (
                f"\n  outbound:\n    - address: {out_address}\n      port: {out_port}\n"
                "      tags: {kuma.io/service: api}"
            )
        return f"""
type: Dataplane
mesh: default
name: {service}-1
networking:
  address: {address}
  inbound:
    - port: {free_port(address)}
      servicePort: {app_port}
      tags: {{kuma.io/service: {service}, kuma.io/protocol: http}}{outbound}
"""

    def serve(self, *resources: str) -> None:
        documents = [
            "type: Mesh\nname: default\nskipCreatingInitialPolicies: ['*']\n",
            self.dataplane("web", free_port()),
            self.dataplane("other", free_port()),
            self.dataplane("api", self.api.endpoint[1]),
        ]
        for envoy in serve_mesh(self.plane, self.tmp_path, [*documents, *resources]):
            self.items.append(envoy)
            self.envoys[envoy.node_id.split(".", 1)[1].removesuffix("-1")] = envoy

    def call(self, client: str, count: int = REQUESTS) -> None:
        wait_for(lambda: get(self.outbound[client]) == "api", 20, f"{client} reaches api")
        for _ in range(count - 1):
            assert get(self.outbound[client]) == "api"

    def stop(self) -> None:
        for item in reversed(self.items):
            item.stop()


@pytest.fixture
def mesh(tmp_path: Path) -> Iterator[Mesh]:
    m = Mesh(tmp_path)
    try:
        yield m
    finally:
        m.stop()


def test_zipkin_spans_name_each_proxys_service_and_carry_the_tags(mesh: Mesh) -> None:
    zipkin = mesh.add(ZipkinReceiver())
    mesh.serve(
        f"""
type: MeshTrace
mesh: default
name: zipkin
spec:
  targetRef: {{kind: Mesh}}
  default:
    backends:
      - type: Zipkin
        zipkin:
          url: http://{COLLECTOR_HOST}:{zipkin.port}/api/v2/spans
    tags:
      - name: env
        literal: e2e
"""
    )
    mesh.call("web")
    # web's outbound (client) span and api's inbound (server) span of the same requests
    wait_for(lambda: {"web", "api"} <= zipkin.services(), 30, "spans of web and api")
    assert set(zipkin.paths) == {"/api/v2/spans"}
    web_spans = [s for s in zipkin.spans if s["localEndpoint"]["serviceName"] == "web"]
    assert {s.get("kind") for s in web_spans} == {"CLIENT"}
    tags = web_spans[0]["tags"]
    assert tags["env"] == "e2e" and tags["kuma.mesh"] == "default"
    api_spans = [s for s in zipkin.spans if s["localEndpoint"]["serviceName"] == "api"]
    assert {s["traceId"] for s in web_spans} & {s["traceId"] for s in api_spans}
    assert "other" not in zipkin.services()  # other sent nothing


def test_opentelemetry_spans_follow_the_sampling_of_each_client(mesh: Mesh) -> None:
    """web: a MeshOpenTelemetryBackend by labels, overall 100 %; other: an inline endpoint,
    overall 0 %. api is not selected: only the clients' spans reach the collector."""
    otlp = mesh.add(OtlpReceiver())
    mesh.serve(
        f"""
type: MeshOpenTelemetryBackend
mesh: default
name: collector
labels: {{purpose: traces}}
spec:
  endpoint: {{address: {COLLECTOR_HOST}, port: {otlp.port}}}
  protocol: grpc
""",
        """
type: MeshTrace
mesh: default
name: web-all
spec:
  targetRef: {kind: MeshService, name: web}
  default:
    backends:
      - type: OpenTelemetry
        openTelemetry:
          backendRef:
            kind: MeshOpenTelemetryBackend
            labels: {purpose: traces}
    sampling:
      overall: 100
""",
        f"""
type: MeshTrace
mesh: default
name: other-none
spec:
  targetRef: {{kind: MeshService, name: other}}
  default:
    backends:
      - type: OpenTelemetry
        openTelemetry:
          endpoint: {COLLECTOR_HOST}:{otlp.port}
    sampling:
      overall: 0
""",
    )
    mesh.call("other")
    mesh.call("web")

    def web_spans() -> list[str]:
        return [name for service, name in list(otlp.spans) if service == "web"]

    wait_for(lambda: len(web_spans()) >= REQUESTS, 30, "a span per request of web over OTLP")
    decided = "http.outbound_api.tracing.{}"
    assert mesh.envoys["other"].stat(decided.format("not_traceable")) == REQUESTS
    assert mesh.envoys["other"].stat(decided.format("random_sampling")) == 0
    assert mesh.envoys["web"].stat(decided.format("random_sampling")) == REQUESTS
    assert otlp.services() == {"web"}
    assert set(web_spans()) == {f"egress {mesh.outbound['web'][0]}:{mesh.outbound['web'][1]}"}
