"""MeshHTTPRoute / MeshTCPRoute backendRefs to a MeshService port or a MeshExternalService.

Expected values come from Kuma 2.14's ``core/xds/meshroute/listeners.go``: ``resolve.BackendRef``
makes a real-resource ref of a MeshService with ``sectionName`` or ``port`` and of every
MeshExternalService (``BackendRef.ReferencesRealObject``), weight ``DerefOr(weight, 1)``;
``handleRealResources`` drops weight 0, a port ``FindPortByName`` does not find (name or
number) and, in an HTTP split, a port whose protocol is not http/http2/grpc; the cluster is
``destinationname.MustResolve(false, dest, port)``.
"""

from __future__ import annotations

from typing import Any

from reconciler.resource_types import TypeUrl
from tests.unit.test_compile_core import compile_yaml, hcm_of, named, route_action

MESH = "type: Mesh\nname: default\n"
DATAPLANES = """
type: Dataplane
mesh: default
name: api-1
networking:
  address: 127.0.0.3
  inbound:
    - port: 8080
      tags: {kuma.io/service: api, kuma.io/protocol: http}
    - port: 9090
      tags: {kuma.io/service: api-grpc, kuma.io/protocol: grpc}
---
type: Dataplane
mesh: default
name: web-1
networking:
  address: 127.0.0.2
  inbound:
    - port: 8080
      tags: {kuma.io/service: web, kuma.io/protocol: http}
  outbound:
    - port: 10001
      tags: {kuma.io/service: api}
"""
SERVICE = """
type: MeshService
name: api-v2
mesh: default
spec:
  selector:
    dataplaneTags: {kuma.io/service: api}
  ports:
    - {name: http, port: 80, targetPort: 8080, appProtocol: http}
    - {port: 81, targetPort: 8080}
"""


def external(protocol: str = "http") -> str:
    return f"""
type: MeshExternalService
name: status
mesh: default
spec:
  match: {{type: HostnameGenerator, port: 80, protocol: {protocol}}}
  endpoints:
    - {{address: 127.0.0.50, port: 8000}}
"""


def http_route(*refs: str) -> str:
    lines = "".join(f"\n              - {r}" for r in refs)
    return f"""
type: MeshHTTPRoute
name: split
mesh: default
spec:
  targetRef: {{kind: Mesh}}
  to:
    - targetRef: {{kind: MeshService, name: api}}
      rules:
        - matches: [{{path: {{type: PathPrefix, value: /}}}}]
          default:
            backendRefs:{lines}
"""


def tcp_route(*refs: str) -> str:
    lines = "".join(f"\n              - {r}" for r in refs)
    return f"""
type: MeshTCPRoute
name: split
mesh: default
spec:
  targetRef: {{kind: Mesh}}
  to:
    - targetRef: {{kind: MeshService, name: api}}
      rules:
        - default:
            backendRefs:{lines}
"""


def web(*documents: str) -> Any:
    return compile_yaml(MESH, DATAPLANES, *documents).configs["default.web-1"]


def clusters_of(action: dict[str, Any]) -> list[tuple[str, int]]:
    weighted = action["route"]["weighted_clusters"]["clusters"]
    return [(c["name"], c["weight"]) for c in weighted]


def test_http_split_to_a_mesh_service_port_and_an_external_service() -> None:
    """handleRealResources: cluster <mesh>_<name>___msvc_<port> / ___extsvc_<port>, the
    weights as written; the port is found by its number (backendRef.port)."""
    route = http_route(
        "{kind: MeshService, name: api-v2, port: 80, weight: 90}",
        "{kind: MeshExternalService, name: status, weight: 10}",
    )
    config = web(SERVICE, external(), route)
    assert clusters_of(route_action(config, "api")) == [
        ("default_api-v2___msvc_80", 90),
        ("default_status___extsvc_80", 10),
    ]
    assert named(config, TypeUrl.CLUSTER, "default_api-v2___msvc_80")["type"] == "EDS"
    assignment = named(config, TypeUrl.ENDPOINT, "default_api-v2___msvc_80")
    socket = assignment["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]
    assert socket["socket_address"] == {"address": "127.0.0.3", "port_value": 8080}
    assert named(config, TypeUrl.CLUSTER, "default_status___extsvc_80")["type"] == "STATIC"
    assert not [n for n in config.notes if "status" in n or "api-v2" in n]


def test_section_name_and_default_weight_one() -> None:
    """sectionName names the port (FindPortByName); weight defaults to 1."""
    route = http_route(
        "{kind: MeshService, name: api-v2, sectionName: http}",
        "{kind: MeshExternalService, name: status}",
    )
    config = web(SERVICE, external(), route)
    assert clusters_of(route_action(config, "api")) == [
        ("default_api-v2___msvc_80", 1),
        ("default_status___extsvc_80", 1),
    ]


def test_http_split_drops_tcp_ports_and_unknown_ports() -> None:
    """MakeHTTPSplit keeps http/http2/grpc only: the tcp MeshExternalService and the port 81
    (appProtocol unset: tcp) are left out; a missing port 82 is dropped with a note."""
    route = http_route(
        "{kind: MeshService, name: api-v2, port: 81, weight: 5}",
        "{kind: MeshService, name: api-v2, port: 82, weight: 5}",
        "{kind: MeshExternalService, name: status, weight: 5}",
        "{kind: MeshService, name: api-v2, port: 80, weight: 5}",
    )
    config = web(SERVICE, external("tcp"), route)
    action = route_action(config, "api")
    assert action["route"]["cluster"] == "default_api-v2___msvc_80"
    assert "default_status___extsvc_80" not in config.by_name()[TypeUrl.CLUSTER]
    assert any("MeshService api-v2 has no port 82 (ports: http, 81)" in n for n in config.notes)


def test_weight_zero_real_resource_is_left_out() -> None:
    route = http_route(
        "{kind: MeshService, name: api-v2, port: 80, weight: 0}",
        "{kind: MeshExternalService, name: status, weight: 3}",
    )
    config = web(SERVICE, external(), route)
    assert route_action(config, "api")["route"]["cluster"] == "default_status___extsvc_80"
    assert "default_api-v2___msvc_80" not in config.by_name()[TypeUrl.CLUSTER]


def test_tcp_route_to_an_external_service_and_a_port() -> None:
    """MakeTCPSplit keeps tcp ports too: weighted tcp_proxy clusters with Kuma's names."""
    route = tcp_route(
        "{kind: MeshService, name: api-v2, port: 81, weight: 2}",
        "{kind: MeshExternalService, name: status, weight: 8}",
    )
    config = web(SERVICE, external("tcp"), route)
    listener = named(config, TypeUrl.LISTENER, "outbound:127.0.0.1:10001")
    tcp = hcm_of(listener)
    assert [(c["name"], c["weight"]) for c in tcp["weighted_clusters"]["clusters"]] == [
        ("default_api-v2___msvc_81", 2),
        ("default_status___extsvc_80", 8),
    ]
    assert named(config, TypeUrl.CLUSTER, "default_status___extsvc_80")["type"] == "STATIC"


def test_mesh_service_by_name_without_port_stays_the_service_tag() -> None:
    """ReferencesRealObject is false without sectionName/port: a legacy kuma.io/service ref."""
    route = http_route("{kind: MeshService, name: api-grpc}")
    config = web(SERVICE, route)
    assert route_action(config, "api")["route"]["cluster"] == "api-grpc"


def test_mirror_to_a_port_and_mtls_sni_of_the_route_cluster() -> None:
    """A RequestMirror backendRef resolves like a split; under mesh mTLS the port's cluster
    gets SniForBackendRef and the MeshService identities, as for a backendRef outbound."""
    mtls = "mtls:\n  enabledBackend: ca-1\n  backends:\n    - {name: ca-1, type: builtin}\n"
    route = http_route("{kind: MeshExternalService, name: status}").replace(
        "            backendRefs:",
        "            filters:\n"
        "              - type: RequestMirror\n"
        "                requestMirror:\n"
        "                  backendRef: {kind: MeshService, name: api-v2, port: 80}\n"
        "            backendRefs:",
    )
    config = compile_yaml(MESH + mtls, DATAPLANES, SERVICE, external(), route).configs[
        "default.web-1"
    ]
    action = route_action(config, "api")
    assert action["route"]["cluster"] == "default_status___extsvc_80"
    assert action["route"]["request_mirror_policies"][0]["cluster"] == "default_api-v2___msvc_80"
    cluster = named(config, TypeUrl.CLUSTER, "default_api-v2___msvc_80")
    tls = cluster["transport_socket"]["typed_config"]
    assert tls["sni"].endswith(".api-v2.80.default.ms")
    assert "transport_socket" not in named(config, TypeUrl.CLUSTER, "default_status___extsvc_80")
