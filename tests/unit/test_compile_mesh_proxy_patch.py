"""MeshProxyPatch: Kuma 2.14's modifications (``meshproxypatch/plugin/v1alpha1``), their order,
their checks before publishing, and their provenance.

Expected values come from Kuma's plugin code: each test names the function it follows.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest
from test_compile_core import (
    MESH,
    as_dict,
    compile_yaml,
    dataplane,
    hcm_of,
    load_resources,
    named,
)

from reconciler import codes
from reconciler.compile.compiler import Compiler, CompileResult
from reconciler.compile.provenance import proxy_provenance
from reconciler.kinds.mesh_proxy_patch.plugin.envoy_values import ensure_type
from reconciler.resource_types import ProxyConfig, TypeUrl

WEB = dataplane("web-1", "127.0.0.2", "web", outbounds=[("api", 10001)])
API = dataplane("api-1", "127.0.0.3", "api")
INBOUND = "inbound:127.0.0.2:8080"
OUTBOUND = "outbound:127.0.0.1:10001"


def patch(name: str, target: str, modifications: str) -> str:
    body = "\n".join("      " + line for line in modifications.strip("\n").splitlines())
    return f"""
type: MeshProxyPatch
name: {name}
mesh: default
spec:
  targetRef: {target}
  default:
    appendModifications:
{body}
"""


def web(result: CompileResult) -> ProxyConfig:
    assert not [d.format_text() for d in result.diagnostics if d.severity == "error"]
    return result.configs["default.web-1"]


def compiled(*patches: str) -> CompileResult:
    return compile_yaml(MESH, WEB, API, *patches)


def http_filters(config: ProxyConfig, listener: str) -> list[str]:
    return [f["name"] for f in hcm_of(named(config, TypeUrl.LISTENER, listener))["http_filters"]]


def test_cluster_patch_by_origin_merges_and_a_duration_replaces_whole() -> None:
    """cluster_mod.go ``patch`` + util_proto.Merge: a Duration in the patch replaces (no nanos
    left from the generated 5s), repeated fields append, other fields merge."""
    result = compiled(
        patch(
            "timeouts",
            "{kind: Mesh}",
            """
- cluster:
    operation: Patch
    match: {origin: outbound}
    value: |
      connectTimeout: 0.25s
      dnsLookupFamily: V4_ONLY
""",
        )
    )
    api = named(web(result), TypeUrl.CLUSTER, "api")
    assert api["connect_timeout"] == "0.250s"
    assert api["dns_lookup_family"] == "V4_ONLY"
    assert api["circuit_breakers"]["thresholds"][0]["max_connections"] == 1024  # kept
    local = named(web(result), TypeUrl.CLUSTER, "localhost:18080")
    assert local["connect_timeout"] == "10s"  # origin inbound: not matched


def test_policies_apply_least_specific_first_and_modifications_in_list_order() -> None:
    """plugin.go ``ApplyMods`` over the single-item rule: the Mesh policy's modifications run
    before the MeshService policy's, each list in order, so the last write wins."""
    mesh_wide = patch(
        "a-mesh",
        "{kind: Mesh}",
        """
- cluster: {operation: Patch, match: {name: api}, value: "connectTimeout: 1s"}
- cluster: {operation: Patch, match: {name: api}, value: "connectTimeout: 2s"}
""",
    )
    service = patch(
        "z-web",
        "{kind: MeshService, name: web}",
        """
- cluster: {operation: Patch, match: {name: api}, value: "connectTimeout: 3s"}
""",
    )
    config = web(compiled(service, mesh_wide))
    assert named(config, TypeUrl.CLUSTER, "api")["connect_timeout"] == "3s"
    edits = config.edited_by[(TypeUrl.CLUSTER, "api")]
    assert [e.split(" ")[1] for e in edits] == ["a-mesh", "a-mesh", "z-web"]


def test_added_resources_take_kumas_origins_and_later_modifications_match_them() -> None:
    """cluster_mod.go ``add``: origin proxy-template-modifications; listener_mod.go ``add``:
    origin mesh-proxy-patch. Add replaces a resource of the same name."""
    config = web(
        compiled(
            patch(
                "adds",
                "{kind: MeshService, name: web}",
                """
- cluster:
    operation: Add
    value: |
      name: extra
      type: STATIC
      connectTimeout: 1s
- cluster:
    operation: Patch
    match: {origin: proxy-template-modifications}
    value: "connectTimeout: 4s"
- listener:
    operation: Add
    value: |
      name: extra-listener
      address: {socketAddress: {address: 127.0.0.2, portValue: 9000}}
      filterChains:
        - filters:
            - name: envoy.filters.network.tcp_proxy
              typedConfig:
                '@type': type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                statPrefix: extra
                cluster: extra
- networkFilter:
    operation: Patch
    match: {name: envoy.filters.network.tcp_proxy, origin: mesh-proxy-patch}
    value: |
      name: envoy.filters.network.tcp_proxy
      typedConfig:
        '@type': type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
        statPrefix: patched
""",
            )
        )
    )
    assert named(config, TypeUrl.CLUSTER, "extra")["connect_timeout"] == "4s"
    assert named(config, TypeUrl.CLUSTER, "api")["connect_timeout"] == "5s"
    tcp = named(config, TypeUrl.LISTENER, "extra-listener")["filter_chains"][0]["filters"][0]
    assert tcp["typed_config"]["stat_prefix"] == "patched"  # MergeAnys: merged, cluster kept
    assert tcp["typed_config"]["cluster"] == "extra"


def test_http_filter_operations_on_every_matching_hcm() -> None:
    """http_filter_mod.go: AddFirst, AddLast, AddBefore/AddAfter the named filter, Remove."""
    header = """
    value: |
      name: {name}
      typedConfig:
        '@type': type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation"""
    mods = "".join(
        f"\n- httpFilter:\n    operation: {op}\n    match: {{{match}}}" + header.format(name=name)
        for op, match, name in (
            ("AddFirst", "origin: inbound", "first"),
            ("AddLast", "origin: inbound", "last"),
            ("AddBefore", "name: envoy.filters.http.router, origin: inbound", "before"),
            ("AddAfter", "name: first, origin: inbound", "after"),
        )
    )
    mods += "\n- httpFilter: {operation: Remove, match: {name: last, origin: inbound}}"
    config = web(compiled(patch("filters", "{kind: Mesh}", mods)))
    assert http_filters(config, INBOUND) == [
        "first",
        "after",
        "before",
        "envoy.filters.http.router",
    ]
    assert http_filters(config, OUTBOUND) == ["envoy.filters.http.router"]


def test_network_filter_listener_tags_and_json_patch_on_typed_config() -> None:
    """network_filter_mod.go ``listenerMatches`` (TagSelector, ``*`` any value) and
    ``MergeJsonPatchAny``: the Kuma docs' JSON patch of the inbound HCM."""
    config = web(
        compiled(
            patch(
                "hcm",
                "{kind: Mesh}",
                """
- networkFilter:
    operation: Patch
    match:
      name: envoy.filters.network.http_connection_manager
      listenerTags: {kuma.io/service: "*", kuma.io/protocol: http}
    jsonPatches:
      - {op: add, path: /streamIdleTimeout, value: 15s}
      - {op: add, path: /httpFilters/0/name, value: envoy.filters.http.router}
""",
            )
        )
    )
    inbound = hcm_of(named(config, TypeUrl.LISTENER, INBOUND))
    assert inbound["stream_idle_timeout"] == "15s"
    outbound = hcm_of(named(config, TypeUrl.LISTENER, OUTBOUND))
    assert "stream_idle_timeout" not in outbound  # outbound tags: kuma.io/service only


def test_virtual_host_on_an_rds_route_configuration_and_an_inline_one() -> None:
    """virtual_host_mod.go: Add appends, Patch (jsonPatches, Kuma's options: ``-`` appends,
    missing containers are created) and Remove by name, filtered by routeConfigurationName."""
    config = web(
        compiled(
            patch(
                "hosts",
                "{kind: Mesh}",
                """
- virtualHost:
    operation: Patch
    match: {routeConfigurationName: "outbound:api"}
    jsonPatches:
      - op: add
        path: /responseHeadersToAdd/-
        value: {header: {key: x-via, value: mesh}}
- virtualHost:
    operation: Add
    match: {origin: inbound}
    value: |
      name: extra
      domains: [extra.local]
- virtualHost: {operation: Remove, match: {name: extra, routeConfigurationName: "inbound:web"}}
- virtualHost:
    operation: Add
    match: {routeConfigurationName: "inbound:web"}
    value: |
      name: kept
      domains: [kept.local]
""",
            )
        )
    )
    route = named(config, TypeUrl.ROUTE, "outbound:api")["virtual_hosts"][0]
    assert route["response_headers_to_add"] == [{"header": {"key": "x-via", "value": "mesh"}}]
    hosts = hcm_of(named(config, TypeUrl.LISTENER, INBOUND))["route_config"]["virtual_hosts"]
    assert [h["name"] for h in hosts] == ["web", "kept"]


def test_other_proxies_and_shared_messages_are_untouched() -> None:
    """Only the selected proxy changes; the api proxy keeps the shared, unpatched messages."""
    plain = compiled()
    result = compiled(
        patch(
            "only-web",
            "{kind: MeshService, name: web}",
            "- cluster: {operation: Patch, value: 'connectTimeout: 9s'}",
        )
    )
    assert named(web(result), TypeUrl.CLUSTER, "localhost:18080")["connect_timeout"] == "9s"
    api, before = result.configs["default.api-1"], plain.configs["default.api-1"]
    assert [as_dict(m) for m in api.of(TypeUrl.CLUSTER)] == [
        as_dict(m) for m in before.of(TypeUrl.CLUSTER)
    ]
    assert api.edited_by == {}


@pytest.mark.parametrize(
    ("modification", "field", "message"),
    [
        (
            "- cluster: {operation: Patch, value: 'connectTimeout: soon'}",
            "spec.default.appendModifications[0].cluster.value",
            "native Envoy resource is not valid",
        ),
        (
            "- cluster: {operation: Patch, jsonPatches: [{op: replace, path: /nope, value: 1}]}",
            "spec.default.appendModifications[0].cluster.jsonPatches[0]",
            "the JSON patch does not apply: replace /nope: missing key 'nope'",
        ),
        (
            "- cluster: {operation: Add, value: 'type: STATIC'}",
            "spec.default.appendModifications[0].cluster",
            "CDS '': breaks Envoy's validation rule at name: value '' length must be at least 1",
        ),
        (
            "- cluster: {operation: Patch, match: {name: api}, value: 'connectTimeout: 0s'}",
            "spec.default.appendModifications[0].cluster",
            "connectTimeout: duration 0s must be gt 0s",
        ),
        (
            "- cluster: {operation: Remove, match: {name: api}}",
            "spec.default.appendModifications[0].cluster",
            "RDS 'outbound:api': routes to unknown cluster 'api'",
        ),
        (
            """- listener:
    operation: Add
    value: |
      name: twin
      address: {socketAddress: {address: 127.0.0.1, portValue: 10001}}""",
            "spec.default.appendModifications[0].listener",
            "listens on 127.0.0.1:10001 like listener",
        ),
        (
            """- httpFilter:
    operation: AddFirst
    value: |
      name: custom
      typedConfig: {'@type': type.googleapis.com/acme.NoSuchFilter}""",
            "spec.default.appendModifications[0].httpFilter.value",
            "native Envoy resource is not valid",
        ),
    ],
)
def test_a_modification_envoy_would_reject_refuses_the_proxy_at_its_line(
    modification: str, field: str, message: str
) -> None:
    """Caught before publishing, not by a NACK: RC510 (codes.PROXY_PATCH_INVALID) at the
    modification's file:line, and the proxy is left out (the revision cannot be served)."""
    result = compiled(patch("broken", "{kind: MeshService, name: web}", modification))
    errors = [d for d in result.diagnostics if d.code == codes.PROXY_PATCH_INVALID]
    assert len(errors) == 1, [d.format_text() for d in result.diagnostics]
    error = errors[0]
    assert error.severity == "error" and error.field == field
    assert message in error.message
    assert error.file == "mesh.yaml" and error.line > 1
    assert "default.web-1" not in result.configs and "default.api-1" in result.configs


def test_a_field_kuma_drops_is_a_warning_naming_it() -> None:
    """util_proto.FromJSON allows unknown fields (jsonpb AllowUnknownFields): Kuma drops them,
    so do we, with RC511 (codes.PROXY_PATCH_FIELD_IGNORED) naming the field."""
    result = compiled(
        patch(
            "typo",
            "{kind: Mesh}",
            "- cluster: {operation: Patch, match: {name: api}, value: 'conectTimeout: 1s'}",
        )
    )
    warnings = [d for d in result.diagnostics if d.code == codes.PROXY_PATCH_FIELD_IGNORED]
    assert len(warnings) == 1 and "conectTimeout" in warnings[0].message
    assert warnings[0].field == "spec.default.appendModifications[0].cluster.value"
    assert named(web(result), TypeUrl.CLUSTER, "api")["connect_timeout"] == "5s"


def test_inspect_names_the_modification_and_its_line_for_each_edited_resource() -> None:
    text = patch(
        "hdr",
        "{kind: MeshService, name: web}",
        "- cluster: {operation: Patch, match: {name: api}, value: 'connectTimeout: 1s'}",
    )
    result = compiled(text)
    trace = result.traces["default.web-1"]
    dataplane_resource = next(r for r in _resources(text) if r.name == "web-1")
    data: dict[str, Any] = proxy_provenance(trace, dataplane_resource)
    assert data["patches"] == [
        {
            "policy": "hdr",
            "modification": "spec.default.appendModifications[0].cluster",
            "at": "mesh.yaml:41",
            "type": "CDS",
            "name": "api",
            "action": "changed",
        }
    ]


def _resources(text: str) -> list[Any]:
    return load_resources(MESH, WEB, API, text)


def test_a_type_url_loads_only_envoy_protos() -> None:
    """Type URLs are repository input: only xds-protos packages are ever imported for them."""
    assert ensure_type("type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer")
    assert not ensure_type("type.googleapis.com/antigravity.Anything")
    assert "antigravity" not in sys.modules


def test_a_changed_patch_recompiles_only_the_proxies_it_selects() -> None:
    """The incremental compiler: a MeshProxyPatch affects the proxies its targetRef selects;
    the others keep their previous (unpatched, shared) configuration objects."""
    compiler = Compiler()
    first = compiler.compile(
        load_resources(MESH, WEB, API, patch("p", "{kind: MeshService, name: web}", TIMEOUT))
    )
    second = compiler.compile(
        load_resources(
            MESH, WEB, API, patch("p", "{kind: MeshService, name: web}", TIMEOUT.replace("7", "8"))
        )
    )
    assert second.compiled == {"default.web-1"}
    assert second.configs["default.api-1"] is first.configs["default.api-1"]
    assert named(web(second), TypeUrl.CLUSTER, "api")["connect_timeout"] == "8s"


TIMEOUT = "- cluster: {operation: Patch, match: {name: api}, value: 'connectTimeout: 7s'}"


def test_equally_specific_policies_apply_by_inverted_name() -> None:
    """Kuma's rule order among equals (``core/rules`` sort): names compared inverted, so the
    alphabetically smaller name is applied last and its write wins."""
    first, second = (
        patch(
            name,
            "{kind: Mesh}",
            f"- cluster: {{operation: Patch, match: {{name: api}}, "
            f"value: 'connectTimeout: {seconds}s'}}",
        )
        for name, seconds in (("aaa", 1), ("bbb", 2))
    )
    config = web(compiled(first, second))
    assert named(config, TypeUrl.CLUSTER, "api")["connect_timeout"] == "1s"
    edits = config.edited_by[(TypeUrl.CLUSTER, "api")]
    assert [e.split(" ")[1] for e in edits] == ["bbb", "aaa"]
