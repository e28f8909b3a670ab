"""Policies scoped to some callers or some routes, proven with real Envoys and traffic.

Two client proxies, ``web`` and ``other``, each with an outbound to ``api``; ``api`` answers
with its name (paths under ``/slow`` after 2 s). Kuma 2.14 behaviours:

* no mTLS: MeshFaultInjection ``from[]`` entries naming a service match the ``x-kuma-tags``
  header the callers' sidecars add (``IsXKumaTagsUsed`` + ``TagsHeaderConfigurer`` on the
  client, ``legacy_configurer.go`` header matchers on the server);
* a MeshTimeout whose top-level targetRef is a MeshHTTPRoute times out only the routes of
  that route's rules (``buildToListWithRoutes``, ``configureRequestTimeout``).
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from xds_harness import App, PlaneThread, free_port, serve_mesh, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]
SLOW_SECONDS = 2.0


class Mesh:
    """web and other (clients) -> api, each behind a real Envoy."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.items: list[Any] = []
        self.api = self.add(App("api", slow_seconds=SLOW_SECONDS))
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
        self.items.extend(serve_mesh(self.plane, self.tmp_path, [*documents, *policies]))

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


def test_timeout_targeting_a_route_times_out_only_that_routes_requests(mesh: Mesh) -> None:
    mesh.serve(
        """
type: MeshHTTPRoute
mesh: default
name: api-paths
spec:
  targetRef: {kind: MeshService, name: web}
  to:
    - targetRef: {kind: MeshService, name: api}
      rules:
        - matches: [{path: {type: PathPrefix, value: /slow/guarded}}]
          default: {}
""",
        """
type: MeshTimeout
mesh: default
name: guarded-timeout
spec:
  targetRef: {kind: MeshHTTPRoute, name: api-paths}
  to:
    - targetRef: {kind: Mesh}
      default:
        http: {requestTimeout: 300ms}
""",
    )
    web = mesh.outbound["web"]
    assert wait_for(lambda: request(web, "/fast") == "api", 20, "web reaches api")
    # the route's rule: Envoy answers 504 after 300ms, before the 2s upstream
    assert request(web, "/slow/guarded") == "HTTP 504"
    # the same slow upstream through the implicit catch-all route: no such timeout
    assert request(web, "/slow/other") == "api"
    # other is not selected by the MeshHTTPRoute, so neither by the timeout
    assert request(mesh.outbound["other"], "/slow/guarded") == "api"
