"""MeshService and MeshExternalService destinations, as Kuma 2.14 builds them.

Expected values come from Kuma's code: ``core/xds/meshroute`` (``CollectServices``,
``handleRealResources``, ``DestinationPortFromRef``, ``GenerateClusters``), the legacy
destination name ``<mesh>_<name>_<namespace>_<zone>_<msvc|extsvc>_<port>``, ``rules/resolve``
(``findPort``: a sectionName is a port name, an unnamed port is named by its number) and
``rules/outbound/resourcerules.go`` (``isRelevant``).
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from reconciler import codes
from reconciler.compile.compiler import Compiler
from reconciler.compile.mesh_services import _fnv1a64, destination_name, sni_for_resource
from reconciler.resource_types import TypeUrl
from tests.unit.test_compile_core import compile_yaml, load_resources, named

MESH = "type: Mesh\nname: default\n"
API_DATAPLANES = """
type: Dataplane
mesh: default
name: api-1
labels: {team: core}
networking:
  address: 127.0.0.3
  inbound:
    - port: 8080
      name: main
      tags: {kuma.io/service: api, kuma.io/protocol: http, app: api}
    - port: 9090
      tags: {kuma.io/service: api-admin, app: api}
---
type: Dataplane
mesh: default
name: api-2
networking:
  address: 127.0.0.4
  inbound:
    - port: 8080
      tags: {kuma.io/service: api, app: api}
"""
API_SERVICE = """
type: MeshService
name: api
mesh: default
labels: {tier: backend}
spec:
  selector:
    dataplaneTags: {app: api}
  ports:
    - {name: http, port: 80, targetPort: main, appProtocol: http}
    - {port: 9090, appProtocol: http}
  identities:
    - {type: ServiceTag, value: api}
    - {type: SpiffeID, value: spiffe://default/ns/api}
"""


def client(*outbounds: str) -> str:
    lines = "".join(f"\n    - {o}" for o in outbounds)
    return f"""
type: Dataplane
mesh: default
name: web-1
networking:
  address: 127.0.0.2
  inbound:
    - port: 8080
      tags: {{kuma.io/service: web, kuma.io/protocol: http}}
  outbound:{lines}
"""


TO_80 = "{port: 10001, backendRef: {kind: MeshService, name: api, port: 80}}"
TO_9090 = "{port: 10002, backendRef: {kind: MeshService, name: api, port: 9090}}"


def proxy(*documents: str, node: str = "default.web-1") -> Any:
    return compile_yaml(*documents).configs[node]


def endpoints(config: Any, cluster: str) -> list[tuple[str, int]]:
    assignment = named(config, TypeUrl.ENDPOINT, cluster)
    return [
        (e["endpoint"]["address"]["socket_address"]["address"],
         e["endpoint"]["address"]["socket_address"]["port_value"])
        for locality in assignment["endpoints"]
        for e in locality.get("lb_endpoints", ())
    ]  # fmt: skip


def test_destination_names_are_kumas_legacy_names() -> None:
    """destinationname.MustResolve(false, ...): <mesh>_<name>_<namespace>_<zone>_msvc_<port>."""
    assert destination_name("MeshService", "default", "api", {}, 80) == "default_api___msvc_80"
    labels = {"k8s.kuma.io/namespace": "kuma-demo", "kuma.io/zone": "east"}
    assert (
        destination_name("MeshExternalService", "m", "db", labels, 5432)
        == "m_db_kuma-demo_east_extsvc_5432"
    )


def test_sni_is_fnv1a_hash_then_name_port_mesh_kind() -> None:
    """tls.SNIForResource: FNV-1a 64 of "<name>;<mesh>;" then name, port, mesh, abbreviation."""
    assert _fnv1a64(b"") == 0xCBF29CE484222325  # the FNV-1a offset basis
    assert _fnv1a64(b"a") == 0xAF63DC4C8601EC8C  # the published FNV-1a 64 test vector
    sni = sni_for_resource("MeshService", "default", "api", 80)
    assert sni.endswith(".api.80.default.ms")
    assert sni.split(".")[0] == f"{_fnv1a64(b'api;default;'):016x}"


def test_one_cluster_route_config_and_endpoints_per_port() -> None:
    """CollectServices: each backendRef outbound is its own destination; targetPort by inbound
    name ("main" on api-1) or by number (8080 on api-2, 9090 on api-1)."""
    config = proxy(MESH, API_DATAPLANES, API_SERVICE, client(TO_80, TO_9090))
    names = config.by_name()
    assert {"default_api___msvc_80", "default_api___msvc_9090"} <= set(names[TypeUrl.CLUSTER])
    assert "outbound:default_api___msvc_80" in names[TypeUrl.ROUTE]
    # targetPort "main" is the inbound named main: api-1 only (api-2's inbound has no name)
    assert endpoints(config, "default_api___msvc_80") == [("127.0.0.3", 8080)]
    assert endpoints(config, "default_api___msvc_9090") == [("127.0.0.3", 9090)]


def test_numeric_target_port_selects_every_matching_inbound() -> None:
    """A numeric targetPort is the inbound port, whatever the inbound's name."""
    numeric = API_SERVICE.replace("targetPort: main", "targetPort: 8080")
    config = proxy(MESH, API_DATAPLANES, numeric, client(TO_80))
    assert endpoints(config, "default_api___msvc_80") == [("127.0.0.3", 8080), ("127.0.0.4", 8080)]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("{dataplaneRef: {name: api-2}}", [("127.0.0.4", 8080)]),
        ("{dataplaneLabels: {matchLabels: {team: core}}}", [("127.0.0.3", 8080)]),
    ],
)
def test_selectors_by_dataplane_name_and_labels(selector: str, expected: list[Any]) -> None:
    numeric = API_SERVICE.replace("targetPort: main", "targetPort: 8080")
    service = numeric.replace("selector:\n    dataplaneTags: {app: api}", f"selector: {selector}")
    config = proxy(MESH, API_DATAPLANES, service, client(TO_80))
    assert endpoints(config, "default_api___msvc_80") == expected


def timeout(section: str, seconds: int) -> str:
    target = "{kind: MeshService, name: api" + (f", sectionName: '{section}'" if section else "")
    return f"""
type: MeshTimeout
name: t-{section or "all"}
mesh: default
spec:
  targetRef: {{kind: Mesh}}
  to:
    - targetRef: {target}}}
      default:
        http: {{requestTimeout: {seconds}s}}
"""


def request_timeout(config: Any, destination: str) -> str:
    routes = named(config, TypeUrl.ROUTE, f"outbound:{destination}")
    return str(routes["virtual_hosts"][0]["routes"][0]["route"]["timeout"])


def test_section_name_selects_one_port_by_name_or_unnamed_port_number() -> None:
    """resolve.findPort: sectionName is the port's name; a port without a name is named by its
    number; a named port is not found by its number."""
    config = proxy(MESH, API_DATAPLANES, API_SERVICE, client(TO_80, TO_9090), timeout("http", 3))
    assert request_timeout(config, "default_api___msvc_80") == "3s"
    assert request_timeout(config, "default_api___msvc_9090") == "15s"  # Kuma's default
    config = proxy(MESH, API_DATAPLANES, API_SERVICE, client(TO_80, TO_9090), timeout("9090", 4))
    assert request_timeout(config, "default_api___msvc_9090") == "4s"
    assert request_timeout(config, "default_api___msvc_80") == "15s"
    config = proxy(MESH, API_DATAPLANES, API_SERVICE, client(TO_80), timeout("80", 4))
    assert request_timeout(config, "default_api___msvc_80") == "15s"


def test_section_entry_beats_service_entry_whatever_the_names() -> None:
    """outbound/sort.go CompareByToEntry: an entry with sectionName is more specific."""
    both = [timeout("http", 3), timeout("", 7)]
    config = proxy(MESH, API_DATAPLANES, API_SERVICE, client(TO_80, TO_9090), *both)
    assert request_timeout(config, "default_api___msvc_80") == "3s"
    assert request_timeout(config, "default_api___msvc_9090") == "7s"


def test_labels_target_selects_mesh_services_by_their_labels() -> None:
    policy = timeout("", 6).replace(
        "{kind: MeshService, name: api}", "{kind: MeshService, labels: {tier: backend}}"
    )
    config = proxy(MESH, API_DATAPLANES, API_SERVICE, client(TO_80), policy)
    assert request_timeout(config, "default_api___msvc_80") == "6s"


def test_unknown_port_or_service_is_a_note_not_an_outbound() -> None:
    """CollectServices skips an outbound whose service or port does not exist."""
    missing = "{port: 10003, backendRef: {kind: MeshService, name: api, port: 81}}"
    result = compile_yaml(MESH, API_DATAPLANES, API_SERVICE, client(TO_80, missing))
    config = result.configs["default.web-1"]
    assert "outbound:127.0.0.1:10003" not in config.by_name()[TypeUrl.LISTENER]
    assert any("has no port 81 (ports: 80, 9090)" in n for n in config.notes)
    (diagnostic,) = [d for d in result.diagnostics if d.code == codes.OUTBOUND_UNRESOLVED]
    assert diagnostic.field == "networking.outbound[1].backendRef"
    assert diagnostic.severity == "warning"


def test_mode_everywhere_generates_a_mesh_service_per_service_tag() -> None:
    """Kuma's universal MeshService generator: ports from inbounds, selector the service tag."""
    mesh = MESH + "meshServices: {mode: Everywhere}\n"
    to_api = "{port: 10001, backendRef: {kind: MeshService, name: api, port: 8080}}"
    config = proxy(mesh, API_DATAPLANES, client(to_api))
    assert endpoints(config, "default_api___msvc_8080") == [
        ("127.0.0.3", 8080),
        ("127.0.0.4", 8080),
    ]
    disabled = proxy(MESH, API_DATAPLANES, client(to_api))
    assert "outbound:127.0.0.1:10001" not in disabled.by_name()[TypeUrl.LISTENER]
    assert any("names no MeshService (api)" in n for n in disabled.notes)


def test_mtls_cluster_verifies_the_service_identities() -> None:
    """ClientSideMultiIdentitiesMTLS: the SANs are the MeshService identities (a ServiceTag
    becomes spiffe://<mesh>/<tag>), the SNI is SniForBackendRef."""
    mesh = MESH + "mtls:\n  enabledBackend: ca-1\n  backends:\n    - {name: ca-1, type: builtin}\n"
    config = proxy(mesh, API_DATAPLANES, API_SERVICE, client(TO_80))
    cluster = named(config, TypeUrl.CLUSTER, "default_api___msvc_80")
    tls = cluster["transport_socket"]["typed_config"]
    sans = tls["common_tls_context"]["combined_validation_context"]["default_validation_context"][
        "match_typed_subject_alt_names"
    ]
    assert [s["matcher"]["exact"] for s in sans] == [
        "spiffe://default/api",
        "spiffe://default/ns/api",
    ]
    assert tls["sni"] == sni_for_resource("MeshService", "default", "api", 80)


def test_endpoint_change_recompiles_the_client() -> None:
    """A Dataplane behind a MeshService port changes the clients of that port."""
    compiler = Compiler()
    compiler.compile(load_resources(MESH, API_DATAPLANES, API_SERVICE, client(TO_80)))
    moved = API_DATAPLANES.replace("127.0.0.4", "127.0.0.5").replace(
        "- port: 8080\n      tags: {kuma.io/service: api, app: api}",
        "- port: 8080\n      name: main\n      tags: {kuma.io/service: api, app: api}",
    )
    result = compiler.compile(load_resources(MESH, moved, API_SERVICE, client(TO_80)))
    assert "default.web-1" in result.compiled
    config = result.configs["default.web-1"]
    assert endpoints(config, "default_api___msvc_80") == [("127.0.0.3", 8080), ("127.0.0.5", 8080)]


EXTERNAL = """
type: MeshExternalService
name: ext
mesh: default
spec:
  match: {type: HostnameGenerator, port: 80, protocol: http}
  endpoints:
    - {address: 127.0.0.50, port: 8000}
    - {address: 127.0.0.51, port: 8000, priority: 1}
"""
TO_EXT = "{port: 10005, backendRef: {kind: MeshExternalService, name: ext}}"


def test_external_service_with_ip_endpoints_is_a_static_cluster() -> None:
    """ProvidedCustomEndpointCluster: IP endpoints -> STATIC, inline, by priority; no EDS."""
    config = proxy(MESH, EXTERNAL, client(TO_EXT))
    cluster = named(config, TypeUrl.CLUSTER, "default_ext___extsvc_80")
    assert cluster["type"] == "STATIC"
    localities = cluster["load_assignment"]["endpoints"]
    assert [loc.get("priority", 0) for loc in localities] == [0, 1]
    assert "transport_socket" not in cluster
    assert "default_ext___extsvc_80" not in config.by_name().get(TypeUrl.ENDPOINT, {})


def test_external_service_stays_plaintext_with_mesh_mtls() -> None:
    """The mesh's mTLS secures sidecar-to-sidecar clusters only, never the external one."""
    mesh = MESH + "mtls:\n  enabledBackend: ca-1\n  backends:\n    - {name: ca-1, type: builtin}\n"
    config = proxy(mesh, EXTERNAL, client(TO_EXT))
    assert "transport_socket" not in named(config, TypeUrl.CLUSTER, "default_ext___extsvc_80")


def tls_of(verification: str, extra: str = "") -> dict[str, Any]:
    external = f"""
type: MeshExternalService
name: ext
mesh: default
spec:
  match: {{type: HostnameGenerator, port: 443, protocol: http}}
  endpoints:
    - {{address: ext.example.com, port: 443}}
  tls:
    enabled: true{extra}
    verification: {verification}
"""
    to_ext = "{port: 10005, backendRef: {kind: MeshExternalService, name: ext}}"
    config = proxy(MESH, external, client(to_ext))
    cluster = named(config, TypeUrl.CLUSTER, "default_ext___extsvc_443")
    return dict(cluster["transport_socket"]["typed_config"])


def test_tls_defaults_to_the_hostname_and_the_system_trust_store() -> None:
    """Secured mode without serverName/SANs: SNI and the DNS SAN are the endpoint hostname."""
    tls = tls_of("{}")
    assert tls["sni"] == "ext.example.com"
    validation = tls["common_tls_context"]["validation_context"]
    assert validation["trusted_ca"] == {"filename": "/etc/ssl/certs/ca-certificates.crt"}
    assert validation["match_typed_subject_alt_names"] == [
        {"san_type": "DNS", "matcher": {"exact": "ext.example.com"}}
    ]


def test_tls_skip_san_keeps_the_ca_and_skip_all_verifies_nothing() -> None:
    skip_san = tls_of("{mode: SkipSAN}")["common_tls_context"]["validation_context"]
    assert "match_typed_subject_alt_names" not in skip_san and "trusted_ca" in skip_san
    assert "validation_context" not in tls_of("{mode: SkipAll}").get("common_tls_context", {})


def test_tls_client_certificate_from_inline_and_secret_and_renegotiation() -> None:
    pem = base64.b64encode(b"-----BEGIN CERTIFICATE-----\n").decode()
    tls = tls_of(
        f"{{clientCert: {{inline: {pem}}}, clientKey: {{secret: client-key.pem}}}}",
        "\n    allowRenegotiation: true",
    )
    certificate = tls["common_tls_context"]["tls_certificates"][0]
    assert base64.b64decode(certificate["certificate_chain"]["inline_bytes"]).startswith(b"-----")
    assert certificate["private_key"] == {
        "environment_variable": "RECONCILER_SECRET_CLIENT_KEY_PEM"
    }
    assert tls["allow_renegotiation"] is True


def test_policies_targeting_the_external_service_apply_to_its_cluster() -> None:
    """to[] MeshExternalService (resourcerules.go isRelevant by resource): circuit breaker."""
    policy = """
type: MeshCircuitBreaker
name: ext
mesh: default
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshExternalService, name: ext}
      default:
        connectionLimits: {maxConnections: 7}
"""
    config = proxy(MESH, EXTERNAL, client(TO_EXT), policy)
    cluster = named(config, TypeUrl.CLUSTER, "default_ext___extsvc_80")
    assert cluster["circuit_breakers"]["thresholds"][0]["max_connections"] == 7


GENERATORS = """
type: HostnameGenerator
name: local-mesh-external-service
spec:
  selector:
    meshExternalService:
      matchLabels: {kuma.io/origin: zone}
  template: '{{ .DisplayName }}.extsvc.{{ label "kuma.io/mesh" }}.mesh.local'
---
type: HostnameGenerator
name: by-team
spec:
  selector:
    meshService:
      matchLabels: {tier: backend}
  template: "{{- .DisplayName -}} .{{ label `team` }}.internal"
---
type: HostnameGenerator
name: local-mesh-service
spec:
  selector:
    meshService:
      matchLabels: {kuma.io/origin: zone}
  template: "{{ .DisplayName }}.svc.mesh.local"
"""


def test_hostname_generators_render_kumas_fields_and_label_function() -> None:
    """hostnamegenerator: the template per selected service; `label` of a missing label is an
    error for that service; resources of the zone carry kuma.io/origin: zone."""
    result = compile_yaml(MESH, API_DATAPLANES, API_SERVICE, EXTERNAL, GENERATORS, client(TO_80))
    entries = {e["name"]: e for e in result.hostnames["default"]}  # type: ignore[index]
    assert entries["ext"]["hostnames"] == [
        {"hostname": "ext.extsvc.default.mesh.local", "generator": "local-mesh-external-service"}
    ]
    assert entries["api"]["hostnames"] == [
        {"hostname": "api.svc.mesh.local", "generator": "local-mesh-service"}
    ]
    assert entries["api"]["problems"] == ["HostnameGenerator by-team: label team not found"]


def test_trimming_markers_and_inspect_shows_the_destination() -> None:
    from reconciler.compile.hostnames import render
    from reconciler.compile.provenance import proxy_provenance

    resources = load_resources(MESH, API_DATAPLANES, API_SERVICE, GENERATORS, client(TO_80))
    service = next(r for r in resources if r.kind == "MeshService")
    assert render("{{- .DisplayName -}} .x", service) == ("api.x", "")
    assert render("{{ printf `%s` .Name }}", service)[0] is None
    result = compile_yaml(MESH, API_DATAPLANES, API_SERVICE, GENERATORS, client(TO_80))
    dataplane = next(r for r in resources if r.name == "web-1")
    data = proxy_provenance(result.traces["default.web-1"], dataplane)
    destination = data["outbounds"][0]["destination"]
    assert destination["kind"] == "MeshService" and destination["sectionName"] == "http"
    assert destination["hostnames"] == ["api.svc.mesh.local"]
    assert destination["at"].startswith("mesh.yaml:")
