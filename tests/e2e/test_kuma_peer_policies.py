"""Policies that tell callers apart, proven with real Envoys and real traffic (Kuma 2.14).

Two client proxies, ``web`` and ``other``, each with an outbound to ``api``; ``api`` answers
with its name. No mTLS: MeshFaultInjection ``from[]`` entries naming a service match the
``x-kuma-tags`` header the callers' sidecars add (Kuma ``IsXKumaTagsUsed`` +
``TagsHeaderConfigurer`` on the client, ``legacy_configurer.go`` header matchers on the
server).
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from xds_harness import App, Envoy, PlaneThread, free_port, wait_for

from reconciler.compile import compile_resources
from reconciler.load import SourceFile
from reconciler.pipeline import analyze

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


class Mesh:
    """web and other (clients) -> api, each behind a real Envoy."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.items: list[Any] = []
        self.api = self.add(App("api"))
        self.outbound = {
            "web": ("127.0.0.2", free_port("127.0.0.2")),
            "other": ("127.0.0.5", free_port("127.0.0.5")),
        }
        self.inbound = {
            "web": ("127.0.0.2", free_port("127.0.0.2")),
            "other": ("127.0.0.5", free_port("127.0.0.5")),
            "api": ("127.0.0.3", free_port("127.0.0.3")),
        }
        self.plane = self.add(PlaneThread())

    def add(self, item: Any) -> Any:
        self.items.append(item)
        return item

    def dataplane(self, service: str, port: int) -> str:
        address, inbound_port = self.inbound[service]
        outbound = ""
        if service in self.outbound:
            out_address, out_port = self.outbound[service]
            outbound = f"""
  outbound:
    - address: {out_address}
      port: {out_port}
      tags: {{kuma.io/service: api}}"""
        return f"""
type: Dataplane
mesh: default
name: {service}-1
networking:
  address: {address}
  inbound:
    - port: {inbound_port}
      servicePort: {port}
      tags: {{kuma.io/service: {service}, kuma.io/protocol: http}}{outbound}
"""

    def serve(self, *policies: str) -> None:
        documents = [
            "type: Mesh\nname: default\n",
            self.dataplane("web", free_port()),
            self.dataplane("other", free_port()),
            self.dataplane("api", self.api.endpoint[1]),
        ]
        analysis = analyze(
            [SourceFile("mesh.yaml", "\n---\n".join([*documents, *policies]).encode())]
        )
        assert analysis.ok, [d.format_text() for d in analysis.diagnostics]
        configs = compile_resources(list(analysis.resources)).configs
        self.plane.publish(*configs.values())
        for node in configs:
            name = node.split(".", 1)[1]
            self.add(Envoy(self.tmp_path / name, node, self.plane.xds_port, sotw=False))
        for node in configs:
            wait_for(lambda n=node: self.plane.settled(n), 20, f"{node} ACKs")

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


def request(endpoint: tuple[str, int], path: str = "/") -> str:
    conn = http.client.HTTPConnection(*endpoint, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read().decode()
        return body if response.status == 200 else f"HTTP {response.status}"
    finally:
        conn.close()


def test_fault_injection_from_a_service_aborts_only_that_callers_requests(mesh: Mesh) -> None:
    mesh.serve(
        """
type: MeshFaultInjection
mesh: default
name: web-chaos
spec:
  targetRef: {kind: MeshService, name: api}
  from:
    - targetRef: {kind: MeshService, name: web}
      default:
        http:
          - abort: {httpStatus: 418, percentage: 100}
"""
    )
    assert wait_for(lambda: request(mesh.outbound["other"]) == "api", 20, "other reaches api")
    assert wait_for(lambda: request(mesh.outbound["web"]) == "HTTP 418", 20, "web aborted")
    assert {request(mesh.outbound["web"]) for _ in range(10)} == {"HTTP 418"}
    assert {request(mesh.outbound["other"]) for _ in range(10)} == {"api"}


def test_fault_injection_for_everyone_else_spares_the_named_service(mesh: Mesh) -> None:
    """[Mesh: abort, MeshService web: no faults]: Kuma's rules are {web}: merged (the web
    entry's empty ``http`` list replaces the Mesh one) and {!web}: abort."""
    mesh.serve(
        """
type: MeshFaultInjection
mesh: default
name: spare-web
spec:
  targetRef: {kind: MeshService, name: api}
  from:
    - targetRef: {kind: Mesh}
      default:
        http:
          - abort: {httpStatus: 418, percentage: 100}
    - targetRef: {kind: MeshService, name: web}
      default:
        http: []
"""
    )
    assert wait_for(lambda: request(mesh.outbound["web"]) == "api", 20, "web spared")
    assert wait_for(lambda: request(mesh.outbound["other"]) == "HTTP 418", 20, "other aborted")
    assert {request(mesh.outbound["web"]) for _ in range(10)} == {"api"}
    assert {request(mesh.outbound["other"]) for _ in range(10)} == {"HTTP 418"}
