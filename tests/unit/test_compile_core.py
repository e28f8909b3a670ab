"""Compiler core: Kuma 2.14 selection, ordering and merging, defaults, endpoints, sharing.

Each test names the Kuma behaviour it reproduces. Inputs are validated first, so every case
is a repository Kuma 2.14 would accept.
"""

from __future__ import annotations

import textwrap
from typing import Any

import pytest
from google.protobuf import json_format

from reconciler.compile.compiler import Compiler, CompileResult, compile_resources
from reconciler.compile.merge import Contribution, merge
from reconciler.load import SourceFile
from reconciler.model import Resource
from reconciler.pipeline import analyze
from reconciler.resource_types import ProxyConfig, TypeUrl

MESH = """
type: Mesh
name: default
"""


def dataplane(
    name: str,
    address: str,
    service: str,
    *,
    port: int = 8080,
    protocol: str = "http",
    tags: dict[str, str] | None = None,
    outbounds: list[tuple[str, int]] = (),  # type: ignore[assignment]
    labels: dict[str, str] | None = None,
) -> str:
    all_tags = {"kuma.io/service": service, "kuma.io/protocol": protocol, **(tags or {})}
    tag_lines = "".join(f"\n          {k}: {v}" for k, v in all_tags.items())
    out_lines = "".join(
        f"\n      - port: {p}\n        tags:\n          kuma.io/service: {s}" for s, p in outbounds
    )
    label_lines = "".join(f"\n  {k}: {v}" for k, v in (labels or {}).items())
    text = f"""
type: Dataplane
mesh: default
name: {name}
{"labels:" + label_lines if labels else ""}
networking:
  address: {address}
  inbound:
    - port: {port}
      servicePort: {port + 10000}
      tags:{tag_lines}
"""
    if outbounds:
        text += "  outbound:" + out_lines + "\n"
    return text


def load_resources(*documents: str, path: str = "mesh.yaml") -> list[Resource]:
    """Load and validate YAML documents; fail the test on any error diagnostic."""
    text = "\n---\n".join(textwrap.dedent(d).strip() for d in documents) + "\n"
    analysis = analyze([SourceFile(path, text.encode())])
    errors = [d.format_text() for d in analysis.diagnostics if d.severity == "error"]
    assert not errors, errors
    return list(analysis.resources)


def compile_yaml(*documents: str) -> CompileResult:
    return compile_resources(load_resources(*documents))


def as_dict(message: Any) -> dict[str, Any]:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def named(config: ProxyConfig, type_url: TypeUrl, name: str) -> dict[str, Any]:
    return as_dict(config.by_name()[type_url][name])


def route_action(config: ProxyConfig, service: str, index: int = 0) -> dict[str, Any]:
    rc = named(config, TypeUrl.ROUTE, f"outbound:{service}")
    return rc["virtual_hosts"][0]["routes"][index]


def hcm_of(listener: dict[str, Any]) -> dict[str, Any]:
    return listener["filter_chains"][0]["filters"][0]["typed_config"]


def hcm_of_chain(listener: dict[str, Any]) -> dict[str, Any]:
    """The HCM of the first chain, wherever it sits among the network filters."""
    filters = listener["filter_chains"][0]["filters"]
    return next(f["typed_config"] for f in filters if f["name"].endswith("connection_manager"))


TWO_SERVICES = (
    MESH,
    dataplane("web-1", "127.0.0.2", "web", outbounds=[("api", 10001)]),
    dataplane("api-1", "127.0.0.3", "api"),
)


def timeout_policy(name: str, target: str, to: str, request: str) -> str:
    return f"""
type: MeshTimeout
name: {name}
mesh: default
spec:
  targetRef: {target}
  to:
    - targetRef: {to}
      default:
        http:
          requestTimeout: {request}
"""


def request_timeout(result: CompileResult, node: str = "default.web-1") -> str:
    return str(route_action(result.configs[node], "api")["route"]["timeout"])


def test_names_follow_kuma_legacy_naming() -> None:
    """Kuma 2.x resource_names.go: inbound:<ip>:<port>, outbound:<ip>:<port>, localhost:<port>."""
    config = compile_yaml(*TWO_SERVICES).configs["default.web-1"]
    names = {t: sorted(config.by_name()[t]) for t in config.resources}
    assert names[TypeUrl.LISTENER] == ["inbound:127.0.0.2:8080", "outbound:127.0.0.1:10001"]
    assert names[TypeUrl.CLUSTER] == ["api", "localhost:18080"]
    assert names[TypeUrl.ROUTE] == ["outbound:api"]
    assert names[TypeUrl.ENDPOINT] == ["api"]


def test_initial_default_policies_apply_kuma_values() -> None:
    """Kuma creates mesh-timeout-all / mesh-retry-all with a Mesh (pkg/defaults/mesh)."""
    config = compile_yaml(*TWO_SERVICES).configs["default.web-1"]
    route = route_action(config, "api")["route"]
    assert route["timeout"] == "15s"
    assert route["retry_policy"]["num_retries"] == 5
    assert route["retry_policy"]["per_try_timeout"] == "16s"
    assert route["retry_policy"]["retry_on"] == "gateway-error,connect-failure,refused-stream"
    cluster = named(config, TypeUrl.CLUSTER, "api")
    assert cluster["connect_timeout"] == "5s"
    # ConfigureRouteAction: the stream idle timeout is the route's idle_timeout (30m)
    assert route["idle_timeout"] == "1800s"
    outbound = hcm_of(named(config, TypeUrl.LISTENER, "outbound:127.0.0.1:10001"))
    assert "stream_idle_timeout" not in outbound
    assert outbound["request_headers_timeout"] == "0s"
    inbound = named(config, TypeUrl.CLUSTER, "localhost:18080")
    assert inbound["connect_timeout"] == "10s"


def test_skip_creating_initial_policies_star_removes_defaults() -> None:
    """Mesh.skipCreatingInitialPolicies: ['*'] creates no default policy."""
    mesh = MESH + "skipCreatingInitialPolicies: ['*']\n"
    config = compile_yaml(mesh, *TWO_SERVICES[1:]).configs["default.web-1"]
    route = route_action(config, "api")["route"]
    # Kuma's routeAction always sets timeout 0s (disabled) unless MeshTimeout sets one
    assert route.get("timeout") == "0s" and "retry_policy" not in route


def test_skip_creating_initial_policies_by_kind() -> None:
    """Listing a kind skips only that kind's default policy."""
    mesh = MESH + "skipCreatingInitialPolicies: [MeshRetry]\n"
    route = route_action(compile_yaml(mesh, *TWO_SERVICES[1:]).configs["default.web-1"], "api")
    assert route["route"]["timeout"] == "15s"
    assert "retry_policy" not in route["route"]


def test_repository_policy_with_default_name_replaces_the_default() -> None:
    """The default is a resource like any other: the repository's copy is the one used."""
    own = timeout_policy("mesh-timeout-all-default", "{kind: Mesh}", "{kind: Mesh}", "3s")
    assert request_timeout(compile_yaml(*TWO_SERVICES, own)) == "3s"


def test_inverted_lexicographic_name_order_smaller_name_wins() -> None:
    """sort.go CompareByDisplayName: among equals the alphabetically smaller name wins."""
    a = timeout_policy("aaa", "{kind: Mesh}", "{kind: MeshService, name: api}", "1s")
    b = timeout_policy("bbb", "{kind: Mesh}", "{kind: MeshService, name: api}", "2s")
    assert request_timeout(compile_yaml(*TWO_SERVICES, a, b)) == "1s"
    assert request_timeout(compile_yaml(*TWO_SERVICES, b, a)) == "1s"


def test_more_specific_top_level_kind_wins_over_name() -> None:
    """Top-level kind order first: a MeshService targetRef beats Mesh whatever the names."""
    mesh_wide = timeout_policy("aaa", "{kind: Mesh}", "{kind: MeshService, name: api}", "1s")
    service = timeout_policy("zzz", "{kind: MeshService, name: web}", "{kind: Mesh}", "7s")
    assert request_timeout(compile_yaml(*TWO_SERVICES, mesh_wide, service)) == "7s"


def test_legacy_service_targetref_beats_dataplane_targetref() -> None:
    """Kuma 2.14 targetref.go order: Mesh=1 < Dataplane=2 < MeshSubset=3 < MeshService=5."""
    service = timeout_policy("zzz", "{kind: MeshService, name: web}", "{kind: Mesh}", "1s")
    by_name = timeout_policy("aaa", "{kind: Dataplane, name: web-1}", "{kind: Mesh}", "9s")
    mesh = timeout_policy("mmm", "{kind: Mesh}", "{kind: Mesh}", "5s")
    assert request_timeout(compile_yaml(*TWO_SERVICES, service, by_name, mesh)) == "1s"
    assert request_timeout(compile_yaml(*TWO_SERVICES, by_name, mesh)) == "9s"


def test_dataplane_by_name_beats_dataplane_by_labels() -> None:
    """Kuma CompareDataplaneKind: a Dataplane ref by name outranks one by labels."""
    labelled = (
        MESH,
        dataplane("web-1", "127.0.0.2", "web", outbounds=[("api", 10001)], labels={"app": "web"}),
        dataplane("api-1", "127.0.0.3", "api"),
    )
    by_labels = timeout_policy("aaa", "{kind: Dataplane, labels: {app: web}}", "{kind: Mesh}", "3s")
    by_name = timeout_policy("zzz", "{kind: Dataplane, name: web-1}", "{kind: Mesh}", "9s")
    assert request_timeout(compile_yaml(*labelled, by_labels)) == "3s"
    assert request_timeout(compile_yaml(*labelled, by_labels, by_name)) == "9s"


def test_to_entry_kind_orders_entries_of_equal_policies() -> None:
    """rules/outbound sort: with equal policy attributes, a MeshService to-entry beats Mesh."""
    policy = """
type: MeshTimeout
name: both
mesh: default
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: api}
      default: {http: {requestTimeout: 4s}}
    - targetRef: {kind: Mesh}
      default: {http: {requestTimeout: 8s}}
"""
    assert request_timeout(compile_yaml(*TWO_SERVICES, policy)) == "4s"


def test_policy_not_selecting_proxy_has_no_effect() -> None:
    """Top-level targetRef selection: a policy for another service leaves this proxy alone."""
    other = timeout_policy("aaa", "{kind: MeshService, name: api}", "{kind: Mesh}", "1s")
    assert request_timeout(compile_yaml(*TWO_SERVICES, other)) == "15s"


def test_dataplane_labels_select_proxy() -> None:
    """targetRef kind Dataplane with labels selects by the Dataplane's resource labels."""
    web = dataplane(
        "web-1", "127.0.0.2", "web", outbounds=[("api", 10001)], labels={"team": "shop"}
    )
    policy = timeout_policy("aaa", "{kind: Dataplane, labels: {team: shop}}", "{kind: Mesh}", "6s")
    assert request_timeout(compile_yaml(MESH, web, TWO_SERVICES[2], policy)) == "6s"


def test_merge_is_rfc7396_objects_by_field_arrays_whole() -> None:
    """merge.go: JSON Merge Patch; arrays are replaced wholesale, fields kept otherwise."""
    base = """
type: MeshRetry
name: bbb-base
mesh: default
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: Mesh}
      default:
        http: {numRetries: 7, retryOn: [5XX, Reset]}
"""
    override = """
type: MeshRetry
name: aaa-override
mesh: default
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: Mesh}
      default:
        http: {retryOn: [GatewayError]}
"""
    route = route_action(
        compile_yaml(*TWO_SERVICES, base, override).configs["default.web-1"], "api"
    )
    policy = route["route"]["retry_policy"]
    assert policy["num_retries"] == 7
    assert policy["retry_on"] == "gateway-error"


def test_merge_null_deletes_and_append_fields_concatenate() -> None:
    """RFC 7396 null removes a field; fields named append* concatenate (MADR 017)."""
    resources = load_resources(*TWO_SERVICES)
    dp = resources[0]
    merged = merge(
        [
            Contribution(dp, ("a",), {"x": 1, "y": {"z": 2}, "appendItems": [1]}),
            Contribution(dp, ("b",), {"x": None, "y": {"w": 3}, "appendItems": [2]}),
        ]
    )
    assert merged.conf == {"y": {"z": 2, "w": 3}, "appendItems": [1, 2]}
    assert [o.path for o in merged.origin("appendItems")] == [
        ("a", "appendItems"),
        ("b", "appendItems"),
    ]
    assert merged.origin("y", "w")[0].path == ("b", "y", "w")


def test_eds_endpoints_are_every_inbound_of_the_service() -> None:
    """One ClusterLoadAssignment per service with every inbound tagged with it, mesh-wide."""
    docs = (*TWO_SERVICES, dataplane("api-2", "127.0.0.4", "api", port=9090))
    config = compile_yaml(*docs).configs["default.web-1"]
    cla = named(config, TypeUrl.ENDPOINT, "api")
    addresses = [
        (
            e["endpoint"]["address"]["socket_address"]["address"],
            e["endpoint"]["address"]["socket_address"]["port_value"],
        )
        for e in cla["endpoints"][0]["lb_endpoints"]
    ]
    assert addresses == [("127.0.0.3", 8080), ("127.0.0.4", 9090)]


def test_service_protocol_falls_back_to_tcp_when_providers_disagree() -> None:
    """Kuma: a service whose inbounds disagree on kuma.io/protocol is treated as TCP."""
    docs = (*TWO_SERVICES, dataplane("api-2", "127.0.0.4", "api", protocol="http2"))
    config = compile_yaml(*docs).configs["default.web-1"]
    listener = named(config, TypeUrl.LISTENER, "outbound:127.0.0.1:10001")
    assert listener["filter_chains"][0]["filters"][0]["name"] == "envoy.filters.network.tcp_proxy"
    assert TypeUrl.ROUTE not in config.resources


def test_http2_and_grpc_services_get_http2_upstreams() -> None:
    docs = (MESH, TWO_SERVICES[1], dataplane("api-1", "127.0.0.3", "api", protocol="grpc"))
    cluster = named(compile_yaml(*docs).configs["default.web-1"], TypeUrl.CLUSTER, "api")
    options = cluster["typed_extension_protocol_options"][
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    ]
    assert "http2_protocol_options" in options["explicit_http_config"]


def test_identical_resources_are_built_once_and_shared() -> None:
    """Two consumers with the same outbound and policies share the same message objects."""
    docs = (
        *TWO_SERVICES,
        dataplane("web-2", "127.0.0.5", "web", outbounds=[("api", 10001)]),
    )
    result = compile_yaml(*docs)
    one, two = result.configs["default.web-1"], result.configs["default.web-2"]
    for type_url, name in (
        (TypeUrl.CLUSTER, "api"),
        (TypeUrl.ROUTE, "outbound:api"),
        (TypeUrl.LISTENER, "outbound:127.0.0.1:10001"),
        (TypeUrl.ENDPOINT, "api"),
    ):
        assert one.by_name()[type_url][name] is two.by_name()[type_url][name]
    assert result.shared["clusters"].shared >= 1


def test_incremental_compile_recompiles_only_affected_proxies() -> None:
    docs = (*TWO_SERVICES, dataplane("db-1", "127.0.0.9", "db", protocol="tcp"))
    compiler = Compiler()
    first = compiler.compile(load_resources(*docs))
    assert first.compiled == {"default.web-1", "default.api-1", "default.db-1"}
    policy = timeout_policy("aaa", "{kind: MeshService, name: web}", "{kind: Mesh}", "3s")
    second = compiler.compile(load_resources(*docs, policy))
    assert second.compiled == {"default.web-1"}
    assert second.configs["default.db-1"] is first.configs["default.db-1"]
    full = compile_resources(load_resources(*docs, policy))
    for node, config in full.configs.items():
        assert _dump(second.configs[node]) == _dump(config), node


def test_incremental_dataplane_change_recompiles_its_consumers() -> None:
    """Endpoints of a service change with its providers: their consumers recompile."""
    compiler = Compiler()
    compiler.compile(load_resources(*TWO_SERVICES))
    moved = dataplane("api-1", "127.0.0.33", "api")
    result = compiler.compile(load_resources(MESH, TWO_SERVICES[1], moved))
    assert result.compiled == {"default.web-1", "default.api-1"}
    cla = named(result.configs["default.web-1"], TypeUrl.ENDPOINT, "api")
    assert (
        cla["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]["socket_address"]["address"]
        == "127.0.0.33"
    )


def _dump(config: ProxyConfig) -> list[tuple[str, bytes]]:
    return [
        (t.value, m.SerializeToString(deterministic=True))
        for t in sorted(config.resources)
        for m in config.resources[t]
    ]


def test_from_mesh_applies_and_peer_matching_rules_copy_the_inbound_route() -> None:
    """from[] Mesh entries apply to the inbound; a rules[] entry matching a peer's spiffeID
    adds a copy of the inbound route for that peer (Kuma ``ConfigureMatchedRoutes``)."""
    from_mesh = """
type: MeshTimeout
name: inbound
mesh: default
spec:
  targetRef: {kind: MeshService, name: api}
  from:
    - targetRef: {kind: Mesh}
      default: {connectionTimeout: 3s}
"""
    by_peer = """
type: MeshTimeout
name: by-peer
mesh: default
spec:
  targetRef: {kind: MeshService, name: api}
  rules:
    - matches:
        - spiffeID: {type: Exact, value: "spiffe://default/web"}
      default: {http: {requestTimeout: 1s}}
"""
    result = compile_yaml(*TWO_SERVICES, from_mesh, by_peer)
    config = result.configs["default.api-1"]
    assert named(config, TypeUrl.CLUSTER, "localhost:18080")["connect_timeout"] == "3s"
    listener = named(config, TypeUrl.LISTENER, "inbound:127.0.0.3:8080")
    routes = hcm_of_chain(listener)["route_config"]["virtual_hosts"][0]["routes"]
    # the copy for the peer, then the original (mesh-timeout-all-default: inbound 0s)
    assert [r["route"]["timeout"] for r in routes] == ["1s", "0s"]
    assert not result.diagnostics


def test_mesh_traffic_permission_compiles_to_nothing_with_a_note() -> None:
    policy = """
type: MeshTrafficPermission
name: allow-web
mesh: default
spec:
  targetRef: {kind: MeshService, name: api}
  from:
    - targetRef: {kind: MeshService, name: web}
      default: {action: Allow}
"""
    with_mtp = compile_yaml(*TWO_SERVICES, policy).configs["default.api-1"]
    without = compile_yaml(*TWO_SERVICES).configs["default.api-1"]
    assert _dump(with_mtp) == _dump(without)
    assert any("MeshTrafficPermission" in n and "allow-web" in n for n in with_mtp.notes)


def test_provenance_names_the_policy_and_line_of_each_value() -> None:
    """inspect: 'why does this proxy have a 2 s timeout?'"""
    policy = timeout_policy("fast", "{kind: Mesh}", "{kind: MeshService, name: api}", "2s")
    result = compile_yaml(*TWO_SERVICES, policy)
    trace = result.traces["default.web-1"].outbounds[0]
    merged = trace.confs["MeshTimeout"]
    origin = merged.origin("http", "requestTimeout")[-1]
    assert origin.resource.name == "fast"
    text = "\n---\n".join(textwrap.dedent(d).strip() for d in (*TWO_SERVICES, policy))
    line = [row.strip() for row in text.splitlines()].index("requestTimeout: 2s") + 1
    assert origin.where() == f"mesh.yaml:{line}"
    assert [p.name for p in merged.policies] == ["mesh-timeout-all-default", "fast"]


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.7"])
def test_outbound_listens_on_127_0_0_1_unless_set(address: str) -> None:
    web = dataplane("web-1", "127.0.0.2", "web", outbounds=[("api", 10001)])
    if address != "127.0.0.1":
        web = web.replace("- port: 10001", f"- port: 10001\n        address: {address}")
    config = compile_yaml(MESH, web, TWO_SERVICES[2]).configs["default.web-1"]
    assert f"outbound:{address}:10001" in config.by_name()[TypeUrl.LISTENER]


def test_incremental_mesh_wide_policy_to_one_service_recompiles_its_consumers_only() -> None:
    """A Mesh-targeted policy whose to[] names service S changes only proxies calling S."""
    docs = (
        *TWO_SERVICES,
        dataplane("db-1", "127.0.0.9", "db", protocol="tcp"),
        dataplane("batch-1", "127.0.0.10", "batch", outbounds=[("db", 10002)]),
    )
    compiler = Compiler()
    compiler.compile(load_resources(*docs))
    policy = timeout_policy("to-api", "{kind: Mesh}", "{kind: MeshService, name: api}", "4s")
    result = compiler.compile(load_resources(*docs, policy))
    assert result.compiled == {"default.web-1"}
    assert request_timeout(result) == "4s"


def _inbound_timeout(name: str, target: str, timeout: str) -> str:
    return f"""
type: MeshTimeout
name: {name}
mesh: default
spec:
  targetRef: {target}
  from:
    - targetRef: {{kind: Mesh}}
      default: {{connectionTimeout: {timeout}}}
"""


def _local_connect_timeout(result: CompileResult, node: str = "default.api-1") -> str:
    return str(named(result.configs[node], TypeUrl.CLUSTER, "localhost:18080")["connect_timeout"])


def test_dataplane_with_section_name_beats_dataplane_without() -> None:
    """sort.go CompareDataplaneKind: a Dataplane targetRef with sectionName ranks higher."""
    api = dataplane("api-1", "127.0.0.3", "api").replace(
        "- port: 8080", "- port: 8080\n      name: main"
    )
    plain = _inbound_timeout("aaa", "{kind: Dataplane, name: api-1}", "3s")
    section = _inbound_timeout("zzz", "{kind: Dataplane, name: api-1, sectionName: main}", "7s")
    assert _local_connect_timeout(compile_yaml(MESH, TWO_SERVICES[1], api, plain, section)) == "7s"


def test_mesh_subset_selects_by_inbound_tags() -> None:
    """matchers/dataplane.go: MeshSubset{tags} selects proxies whose inbound tags match."""
    docs = (
        MESH,
        TWO_SERVICES[1],
        dataplane("api-1", "127.0.0.3", "api", tags={"zone": "east"}),
        dataplane("api-2", "127.0.0.4", "api", tags={"zone": "west"}),
    )
    policy = _inbound_timeout("east", "{kind: MeshSubset, tags: {zone: east}}", "4s")
    result = compile_yaml(*docs, policy)
    assert _local_connect_timeout(result, "default.api-1") == "4s"
    assert _local_connect_timeout(result, "default.api-2") == "10s"  # the initial default


def test_mesh_service_subset_selects_service_inbounds_with_tags() -> None:
    """MeshServiceSubset{name, tags}: inbounds of that service that also carry the tags."""
    docs = (
        MESH,
        TWO_SERVICES[1],
        dataplane("api-1", "127.0.0.3", "api", tags={"version": "v1"}),
        dataplane("api-2", "127.0.0.4", "api", tags={"version": "v2"}),
    )
    target = "{kind: MeshServiceSubset, name: api, tags: {version: v2}}"
    result = compile_yaml(*docs, _inbound_timeout("v2", target, "6s"))
    assert _local_connect_timeout(result, "default.api-2") == "6s"
    assert _local_connect_timeout(result, "default.api-1") == "10s"


def test_merged_http_rule_takes_the_position_of_its_most_specific_occurrence() -> None:
    """merge.go mergeValuesByKey: the merged rule sits where its highest-priority copy is."""
    from reconciler.compile.merge import merge_rules_by_matches

    resources = load_resources(*TWO_SERVICES)
    dp = resources[0]
    a = {"matches": [{"path": {"type": "Exact", "value": "/a"}}], "default": {"x": 1}}
    b = {"matches": [{"path": {"type": "Exact", "value": "/b"}}], "default": {"x": 2}}
    a2 = {"matches": [{"path": {"type": "Exact", "value": "/a"}}], "default": {"y": 3}}
    rules = merge_rules_by_matches([(dp, ("low",), [a, b]), (dp, ("high",), [a2])])
    assert [r.matches[0]["path"]["value"] for r in rules] == ["/a", "/b"]
    assert rules[0].default.conf == {"x": 1, "y": 3}


def test_proxy_types_gateway_only_selects_no_sidecar() -> None:
    """targetRef.proxyTypes: [Gateway] applies to gateways only (DppSelectedByPolicy)."""
    gateway = timeout_policy(
        "aaa", "{kind: Mesh, proxyTypes: [Gateway]}", "{kind: MeshService, name: api}", "1s"
    )
    sidecar = timeout_policy(
        "bbb", "{kind: Mesh, proxyTypes: [Sidecar]}", "{kind: MeshService, name: api}", "2s"
    )
    assert request_timeout(compile_yaml(*TWO_SERVICES, gateway)) == "15s"
    assert request_timeout(compile_yaml(*TWO_SERVICES, gateway, sidecar)) == "2s"


def test_a_proxy_that_cannot_be_compiled_is_reported_not_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """RC501: the failing proxy is left out with a diagnostic at its Dataplane; others compile."""
    from reconciler.compile.plugins import plugins
    from reconciler.errors import CompileError

    def fail(*_args: Any) -> None:
        raise CompileError("value out of Envoy's range")

    monkeypatch.setattr(plugins()["MeshTimeout"], "inbound_cluster", fail)
    docs = (MESH, TWO_SERVICES[1], TWO_SERVICES[2])
    result = compile_yaml(*docs)
    assert result.configs == {}
    codes = sorted((d.code, d.resource.name if d.resource else "") for d in result.diagnostics)
    assert codes == [("RC501", "api-1"), ("RC501", "web-1")]
    assert "value out of Envoy's range" in result.diagnostics[0].message
