"""Kuma 2.14's routing behaviour, proven with real Envoys and real traffic.

Each case compiles a mesh from YAML with the real pipeline and serves it to Envoys from the
in-process server: a client proxy ``web`` with an outbound to ``api``, whose two versions
answer with their own names (HTTP/2 between the sidecars, as Kuma configures it).

* MeshHTTPRoute rules that match only on a header are reached: Kuma appends its implicit
  ``PathPrefix /`` catch-all after the user's rules (``prepareRoutes``);
* a rule whose backend no Dataplane provides is dropped, so its requests fall through to the
  next matching route instead of answering 503 (``MakeHTTPSplit``);
* a MeshTCPRoute on an HTTP service without a MeshHTTPRoute turns the outbound into a TCP
  proxy (``meshtcproute`` ``getBackendRefs``);
* a MeshHTTPRoute splits to a MeshExternalService (an HTTP server that is not a Dataplane)
  and to a MeshService port, each through its own cluster (``meshroute``
  ``handleRealResources``).
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from xds_harness import App, Envoy, PlaneThread, free_port, serve_mesh, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


class Mesh:
    """web (client) -> api (v1 and v2), each behind a real Envoy."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.items: list[Any] = []
        self.v1 = self.add(App("api-v1"))
        self.v2 = self.add(App("api-v2"))
        self.outbound = ("127.0.0.2", free_port("127.0.0.2"))
        self.inbound = {
            "web": ("127.0.0.2", free_port("127.0.0.2")),
            "v1": ("127.0.0.3", free_port("127.0.0.3")),
            "v2": ("127.0.0.4", free_port("127.0.0.4")),
        }
        self.plane = self.add(PlaneThread())

    def add(self, item: Any) -> Any:
        self.items.append(item)
        return item

    def documents(self) -> list[str]:
        def dp(name: str, key: str, service: str, port: int, version: str, outs: str) -> str:
            address, inbound_port = self.inbound[key]
            return f"""
type: Dataplane
mesh: default
name: {name}
networking:
  address: {address}
  inbound:
    - port: {inbound_port}
      servicePort: {port}
      tags: {{kuma.io/service: {service}, kuma.io/protocol: http, version: {version}}}
  outbound: {outs}
"""

        out = f"[{{address: {self.outbound[0]}, port: {self.outbound[1]}, tags: {{kuma.io/service: api}}}}]"
        return [
            "type: Mesh\nname: default\n",
            dp("web-1", "web", "web", free_port(), "v1", out),
            dp("api-v1", "v1", "api", self.v1.endpoint[1], "v1", "[]"),
            dp("api-v2", "v2", "api", self.v2.endpoint[1], "v2", "[]"),
        ]

    def serve(self, *policies: str) -> None:
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


def request(
    endpoint: tuple[str, int], path: str = "/", headers: dict[str, str] | None = None
) -> str:
    conn = http.client.HTTPConnection(*endpoint, timeout=3)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        body = response.read().decode()
        return body if response.status == 200 else f"HTTP {response.status}"
    finally:
        conn.close()


def route(name: str, rules: str) -> str:
    return f"""
type: MeshHTTPRoute
mesh: default
name: {name}
spec:
  targetRef: {{kind: Mesh}}
  to:
    - targetRef: {{kind: MeshService, name: api}}
      rules:{rules}
"""


def test_header_only_rule_is_reached_and_unroutable_rule_falls_through(mesh: Mesh) -> None:
    mesh.serve(
        route(
            "by-header",
            """
        - matches: [{headers: [{name: x-version, type: Exact, value: v2}]}]
          default:
            backendRefs: [{kind: MeshServiceSubset, name: api, tags: {version: v2}}]
        - matches: [{path: {type: PathPrefix, value: /gone}}]
          default:
            backendRefs: [{kind: MeshService, name: nowhere}]
        - matches: [{path: {type: PathPrefix, value: /}}, {path: {type: PathPrefix, value: /v1}}]
          default:
            backendRefs: [{kind: MeshServiceSubset, name: api, tags: {version: v1}}]
""",
        )
    )
    # The policy's own PathPrefix / rule sorts first (Kuma's CompareMatch), so the header rule
    # is shadowed there; check the header rule with a policy without it below.
    assert wait_for(lambda: request(mesh.outbound, "/gone/x") == "api-v1", 20, "fall through")
    assert request(mesh.outbound, "/v1") == "api-v1"


def test_header_only_rule_routes_before_the_implicit_catch_all(mesh: Mesh) -> None:
    mesh.serve(
        route(
            "by-header",
            """
        - matches: [{headers: [{name: x-version, type: Exact, value: v2}]}]
          default:
            backendRefs: [{kind: MeshServiceSubset, name: api, tags: {version: v2}}]
        - matches: [{path: {type: PathPrefix, value: /gone}}]
          default:
            backendRefs: [{kind: MeshService, name: nowhere}]
""",
        )
    )
    v2 = {"x-version": "v2"}
    assert wait_for(lambda: request(mesh.outbound, "/", v2) == "api-v2", 20, "header rule")
    answers = {request(mesh.outbound, "/gone") for _ in range(20)}
    # dropped rule: the implicit catch-all sends to the whole service, never a 503
    assert answers <= {"api-v1", "api-v2"} and answers
    assert {request(mesh.outbound, "/", v2) for _ in range(10)} == {"api-v2"}


def test_tcp_route_on_an_http_service_becomes_a_tcp_proxy(mesh: Mesh) -> None:
    mesh.serve(
        """
type: MeshTCPRoute
mesh: default
name: all-to-v2
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: api}
      rules:
        - default:
            backendRefs: [{kind: MeshServiceSubset, name: api, tags: {version: v2}}]
"""
    )
    assert wait_for(lambda: request(mesh.outbound) == "api-v2", 20, "TCP-routed traffic")
    assert {request(mesh.outbound, "/any") for _ in range(10)} == {"api-v2"}
    client = next(i for i in mesh.items if isinstance(i, Envoy) and i.node_id == "default.web-1")
    # the outbound is a tcp_proxy (its stats), not an HTTP connection manager
    assert client.stat("tcp.outbound_api.downstream_cx_total") >= 10
    assert client.stat("http.outbound_api.downstream_rq_total") == 0


def test_http_route_splits_to_an_external_service_and_a_mesh_service_port(mesh: Mesh) -> None:
    external = mesh.add(App("status external", host="127.0.0.5"))
    v2_port = mesh.inbound["v2"][1]
    mesh.serve(
        f"""
type: MeshExternalService
mesh: default
name: status
spec:
  match: {{type: HostnameGenerator, port: 80, protocol: http}}
  endpoints:
    - {{address: {external.endpoint[0]}, port: {external.endpoint[1]}}}
""",
        f"""
type: MeshService
mesh: default
name: api-next
spec:
  selector:
    dataplaneTags: {{kuma.io/service: api, version: v2}}
  ports:
    - {{name: http, port: 80, targetPort: {v2_port}, appProtocol: http}}
""",
        route(
            "to-resources",
            """
        - matches: [{path: {type: PathPrefix, value: /ext}}]
          default:
            backendRefs: [{kind: MeshExternalService, name: status}]
        - matches: [{path: {type: PathPrefix, value: /split}}]
          default:
            backendRefs:
              - {kind: MeshExternalService, name: status, weight: 1}
              - {kind: MeshService, name: api-next, port: 80, weight: 1}
""",
        ),
    )
    ext = "status external"
    assert wait_for(lambda: request(mesh.outbound, "/ext") == ext, 20, "external backend")
    assert {request(mesh.outbound, "/ext/x") for _ in range(10)} == {ext}
    # weights 1:1 over 40 requests: both backends answer (a miss has odds 2**-39)
    assert {request(mesh.outbound, "/split") for _ in range(40)} == {ext, "api-v2"}
    client = next(i for i in mesh.items if isinstance(i, Envoy) and i.node_id == "default.web-1")
    assert client.stat("cluster.default_status___extsvc_80.upstream_rq_total") >= 11
    assert client.stat("cluster.default_api-next___msvc_80.upstream_rq_total") >= 1
