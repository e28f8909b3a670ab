"""MeshAccessLog Tcp and OpenTelemetry backends with real Envoys, real traffic and local
receivers on loopback: an OTLP/gRPC LogsService and TCP listeners.

``web`` calls ``api`` (HTTP) and ``db`` (TCP) through its outbounds. The Tcp lines travel
Envoy -> named pipe -> ``reconciler agent`` (a subprocess beside each Envoy, as kuma-dp) ->
the TCP listener; the OTLP records travel Envoy -> collector cluster -> the receiver.
Each test uses its own mesh name: the pipes are ``/tmp/kuma-al-<dataplane>-<mesh>.sock``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as otlp_logs
from xds_harness import App, PlaneThread, free_port, get, serve_mesh, wait_for

from reconciler import names

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]
LOGS_SERVICE = "opentelemetry.proto.collector.logs.v1.LogsService"


class OtlpReceiver:
    """An OTLP/gRPC LogsService on 127.0.0.1 keeping every exported log record."""

    def __init__(self) -> None:
        self.requests: list[otlp_logs.ExportLogsServiceRequest] = []
        self.lock = threading.Lock()

        def export(request: Any, context: grpc.ServicerContext) -> Any:
            with self.lock:
                self.requests.append(request)
            return otlp_logs.ExportLogsServiceResponse()

        handler = grpc.method_handlers_generic_handler(
            LOGS_SERVICE,
            {
                "Export": grpc.unary_unary_rpc_method_handler(
                    export,
                    request_deserializer=otlp_logs.ExportLogsServiceRequest.FromString,
                    response_serializer=otlp_logs.ExportLogsServiceResponse.SerializeToString,
                )
            },
        )
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        self.server.add_generic_rpc_handlers((handler,))
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    def records(self) -> list[tuple[dict[str, str], Any]]:
        """(resource attributes, record) of every record received so far."""
        out = []
        with self.lock:
            for request in self.requests:
                for resource_logs in request.resource_logs:
                    resource = {
                        kv.key: kv.value.string_value for kv in resource_logs.resource.attributes
                    }
                    # xds-protos ships OTLP v0.11 messages (the `opentelemetry` package Envoy's
                    # protos import); opentelemetry-proto, if also installed, writes today's
                    # into the same files. Field 2 is instrumentation_library_logs (logs) in
                    # the first, scope_logs (log_records) in the second: the same bytes
                    fields = resource_logs.DESCRIPTOR.fields_by_name
                    if "scope_logs" in fields:
                        for scope in resource_logs.scope_logs:
                            out.extend((resource, r) for r in scope.log_records)
                    else:
                        for scope in resource_logs.instrumentation_library_logs:
                            out.extend((resource, r) for r in scope.logs)
        return out

    def stop(self) -> None:
        self.server.stop(0)


class TcpReceiver:
    """A TCP listener on 127.0.0.1 keeping the text it receives."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.data = b""
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        with conn:
            while chunk := conn.recv(65536):
                with self.lock:
                    self.data += chunk

    def lines(self) -> list[str]:
        with self.lock:
            return self.data.decode().splitlines()

    def stop(self) -> None:
        self.server.shutdown(socket.SHUT_RDWR)
        self.server.close()


class EchoServer:
    """A TCP service: echoes what it reads."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.endpoint = ("127.0.0.1", self.server.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                conn.sendall(conn.recv(1024))

    def stop(self) -> None:
        self.server.shutdown(socket.SHUT_RDWR)
        self.server.close()


class Agent:
    """``reconciler agent`` beside one Envoy (started before it, as kuma-dp)."""

    def __init__(self, workdir: Path, dataplane: str, mesh: str) -> None:
        self.pipe = names.access_log_pipe(dataplane, mesh)
        workdir.mkdir(parents=True, exist_ok=True)
        self.log = (workdir / f"agent-{dataplane}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "agent", "--dataplane", dataplane, "--mesh", mesh],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_for(lambda: os.path.exists(self.pipe), 20, f"agent pipe {self.pipe}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.log.close()
        if os.path.exists(self.pipe):
            os.unlink(self.pipe)


class Mesh:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.name = f"logs{os.getpid()}x{time.monotonic_ns() % 100000}"
        self.items: list[Any] = []
        self.api = self.add(App("api"))
        self.db = self.add(EchoServer())
        self.otlp = self.add(OtlpReceiver())
        self.tcp = self.add(TcpReceiver())
        self.plane = self.add(PlaneThread())
        self.web_in = ("127.0.0.2", free_port("127.0.0.2"))
        self.api_in = ("127.0.0.3", free_port("127.0.0.3"))
        self.db_in = ("127.0.0.4", free_port("127.0.0.4"))
        self.to_api = ("127.0.0.2", free_port("127.0.0.2"))
        self.to_db = ("127.0.0.2", free_port("127.0.0.2"))

    def add(self, item: Any) -> Any:
        self.items.append(item)
        return item

    def documents(self) -> list[str]:
        def dataplane(name: str, service: str, inbound: tuple[str, int], port: int, protocol: str):
            return f"""
type: Dataplane
mesh: {self.name}
name: {name}
labels: {{kuma.io/zone: zone-1}}
networking:
  address: {inbound[0]}
  inbound:
    - port: {inbound[1]}
      servicePort: {port}
      tags: {{kuma.io/service: {service}, kuma.io/protocol: {protocol}}}"""

        web = (
            dataplane("web-1", "web", self.web_in, free_port(), "http")
            + f"""
  outbound:
    - {{address: {self.to_api[0]}, port: {self.to_api[1]}, tags: {{kuma.io/service: api}}}}
    - {{address: {self.to_db[0]}, port: {self.to_db[1]}, tags: {{kuma.io/service: db}}}}"""
        )
        return [
            f"type: Mesh\nname: {self.name}\nskipCreatingInitialPolicies: ['*']\n",
            web,
            dataplane("api-1", "api", self.api_in, self.api.endpoint[1], "http"),
            dataplane("db-1", "db", self.db_in, self.db.endpoint[1], "tcp"),
        ]

    def serve(self, *policies: str) -> None:
        for dataplane in ("web-1", "api-1", "db-1"):
            self.add(Agent(self.tmp_path, dataplane, self.name))
        self.items.extend(serve_mesh(self.plane, self.tmp_path, [*self.documents(), *policies]))

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


def echo(endpoint: tuple[str, int]) -> bytes:
    with socket.create_connection(endpoint, timeout=5) as conn:
        conn.sendall(b"ping")
        return conn.recv(16)


def test_tcp_backend_lines_reach_the_tcp_listener_in_their_format(mesh: Mesh) -> None:
    """Outbound HTTP: a Plain format with Kuma placeholders; outbound TCP: Kuma's default
    network line; inbound HTTP (api): a Json format. Each line arrives at the Tcp address."""
    address = f"127.0.0.1:{mesh.tcp.port}"
    mesh.serve(
        f"""
type: MeshAccessLog
mesh: {mesh.name}
name: web-out
spec:
  targetRef: {{kind: MeshService, name: web}}
  to:
    - targetRef: {{kind: MeshService, name: api}}
      default:
        backends:
          - type: Tcp
            tcp:
              address: {address}
              format:
                type: Plain
                plain: "plain %KUMA_SOURCE_SERVICE%->%KUMA_DESTINATION_SERVICE% %KUMA_MESH% %KUMA_TRAFFIC_DIRECTION% %RESPONSE_CODE%"
    - targetRef: {{kind: MeshService, name: db}}
      default:
        backends:
          - type: Tcp
            tcp: {{address: "{address}"}}
---
type: MeshAccessLog
mesh: {mesh.name}
name: api-in
spec:
  targetRef: {{kind: MeshService, name: api}}
  from:
    - targetRef: {{kind: Mesh}}
      default:
        backends:
          - type: Tcp
            tcp:
              address: {address}
              format:
                type: Json
                json:
                  - {{key: kind, value: json}}
                  - {{key: destination, value: "%KUMA_DESTINATION_SERVICE%"}}
                  - {{key: source, value: "%KUMA_SOURCE_SERVICE%"}}
                  - {{key: zone, value: "%KUMA_ZONE%"}}
                  - {{key: status, value: "%RESPONSE_CODE%"}}
"""
    )
    wait_for(lambda: get(mesh.to_api) == "api", 20, "web reaches api")
    assert echo(mesh.to_db) == b"ping"
    wanted = f"plain web->api {mesh.name} OUTBOUND 200"
    wait_for(lambda: wanted in mesh.tcp.lines(), 30, "the outbound plain line")
    wait_for(
        lambda: any(line.startswith('{"destination"') for line in mesh.tcp.lines()),
        30,
        "the inbound json line",
    )
    json_line = next(line for line in mesh.tcp.lines() if line.startswith('{"destination"'))
    assert json.loads(json_line) == {
        "destination": "api",
        "kind": "json",
        "source": "unknown",
        "status": 200,  # Envoy's JSON formatter keeps a number a number
        "zone": "zone-1",
    }
    wait_for(lambda: any("(db) took" in line for line in mesh.tcp.lines()), 30, "the tcp line")
    tcp_line = next(line for line in mesh.tcp.lines() if "(db) took" in line)
    assert f"] - {mesh.name} 127.0.0.2(web)->{mesh.db_in[0]}:{mesh.db_in[1]}(db) took" in (tcp_line)
    assert "sent 4 bytes, received: 4 bytes" in tcp_line


def test_opentelemetry_backend_records_reach_the_otlp_receiver(mesh: Mesh) -> None:
    """Outbound HTTP with a kvlist body and attributes (inline endpoint); inbound TCP (db)
    through a backendRef to a MeshOpenTelemetryBackend, with Kuma's default body."""
    mesh.serve(
        f"""
type: MeshOpenTelemetryBackend
mesh: {mesh.name}
name: local-collector
labels: {{team: obs}}
spec:
  endpoint: {{address: 127.0.0.1, port: {mesh.otlp.port}}}
  protocol: grpc
---
type: MeshAccessLog
mesh: {mesh.name}
name: web-out
spec:
  targetRef: {{kind: MeshService, name: web}}
  to:
    - targetRef: {{kind: MeshService, name: api}}
      default:
        backends:
          - type: OpenTelemetry
            openTelemetry:
              endpoint: "127.0.0.1:{mesh.otlp.port}"
              body:
                kvlistValue:
                  values:
                    - key: route
                      value: {{stringValue: "%KUMA_SOURCE_SERVICE%->%KUMA_DESTINATION_SERVICE%"}}
                    - key: status
                      value: {{stringValue: "%RESPONSE_CODE%"}}
              attributes:
                - {{key: mesh, value: "%KUMA_MESH%"}}
                - {{key: method, value: "%REQ(:METHOD)%"}}
---
type: MeshAccessLog
mesh: {mesh.name}
name: db-in
spec:
  targetRef: {{kind: MeshService, name: db}}
  from:
    - targetRef: {{kind: Mesh}}
      default:
        backends:
          - type: OpenTelemetry
            openTelemetry:
              backendRef: {{kind: MeshOpenTelemetryBackend, labels: {{team: obs}}}}
"""
    )
    wait_for(lambda: get(mesh.to_api) == "api", 20, "web reaches api")
    assert echo(mesh.to_db) == b"ping"

    def http_record() -> Any:
        return next(
            ((res, r) for res, r in mesh.otlp.records() if r.body.HasField("kvlist_value")),
            None,
        )

    resource, record = wait_for(http_record, 30, "the outbound HTTP record")
    body = {kv.key: kv.value.string_value for kv in record.body.kvlist_value.values}
    assert body == {"route": "web->api", "status": "200"}
    attributes = {kv.key: kv.value.string_value for kv in record.attributes}
    assert attributes["mesh"] == mesh.name
    assert attributes["method"] == "GET"
    assert resource["kuma.mesh"] == mesh.name
    assert resource["kuma.zone"] == "zone-1"
    assert resource["log_name"] == "MeshAccessLog"

    def tcp_record() -> Any:
        return next((r for _, r in mesh.otlp.records() if "(db) took" in r.body.string_value), None)

    text = wait_for(tcp_record, 30, "the inbound TCP record").body.string_value
    assert f"] - {mesh.name} 127.0.0.4(unknown)->" in text
    assert "sent 4 bytes, received: 4 bytes" in text
