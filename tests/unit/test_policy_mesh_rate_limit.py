"""MeshRateLimit: each test names the Kuma 2.14 behaviour it reproduces
(``pkg/plugins/policies/meshratelimit/plugin/xds/configurer.go``, goldens
``basic_listener_1``, ``basic_listener_2``, ``http_disabled``)."""

from __future__ import annotations

from typing import Any

from test_compile_core import MESH, compile_yaml, dataplane, hcm_of, named

from reconciler.compile.compiler import CompileResult
from reconciler.resource_types import TypeUrl

BARE_MESH = MESH + "skipCreatingInitialPolicies: ['*']\n"


def policy(name: str, target: str, local: str) -> str:
    return f"""
type: MeshRateLimit
name: {name}
mesh: default
spec:
  targetRef: {target}
  from:
    - targetRef: {{kind: Mesh}}
      default:
        local:
{local}
"""


HTTP_LIMIT = """\
          http:
            requestRate: {num: 100, interval: 10s}
            onRateLimit:
              status: 429
              headers:
                add: [{name: x-by, value: kuma}]
                set: [{name: x-limited, value: "yes,really"}]"""


def compiled(*policies: str, protocol: str = "http") -> CompileResult:
    return compile_yaml(
        BARE_MESH, dataplane("api-1", "127.0.0.3", "api", protocol=protocol), *policies
    )


def listener(result: CompileResult) -> dict[str, Any]:
    return named(result.configs["default.api-1"], TypeUrl.LISTENER, "inbound:127.0.0.3:8080")


def test_http_limit_is_a_bare_filter_plus_per_route_config() -> None:
    """The HCM filter has only stat_prefix rate_limit; the inbound route carries the bucket,
    100% enabled/enforced runtime fractions, the status and the response headers."""
    result = compiled(policy("rl", "{kind: MeshService, name: api}", HTTP_LIMIT))
    hcm = hcm_of(listener(result))
    first = hcm["http_filters"][0]
    assert first["name"] == "envoy.filters.http.local_ratelimit"
    assert set(first["typed_config"]) == {"@type", "stat_prefix"}
    route = hcm["route_config"]["virtual_hosts"][0]["routes"][0]
    limit = route["typed_per_filter_config"]["envoy.filters.http.local_ratelimit"]
    assert limit["token_bucket"] == {
        "max_tokens": 100,
        "tokens_per_fill": 100,
        "fill_interval": "10s",
    }
    assert limit["filter_enabled"] == {
        "runtime_key": "local_rate_limit_enabled",
        "default_value": {"numerator": 100},
    }
    assert limit["filter_enforced"]["runtime_key"] == "local_rate_limit_enforced"
    assert limit["status"] == {"code": "TooManyRequests"}
    assert limit["response_headers_to_add"] == [
        {"header": {"key": "x-by", "value": "kuma"}},
        {
            "header": {"key": "x-limited", "value": "yes"},
            "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
        },
        {
            "header": {"key": "x-limited", "value": "really"},
            "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
        },
    ]


def test_tcp_connection_rate_is_a_network_filter_placed_first() -> None:
    """local.tcp: Kuma's network filter (named by its type) before the tcp_proxy."""
    local = "          tcp: {connectionRate: {num: 5, interval: 1s}}"
    result = compiled(policy("rl", "{kind: MeshService, name: api}", local), protocol="tcp")
    first, last = listener(result)["filter_chains"][0]["filters"]
    assert first["name"] == "envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit"
    assert first["typed_config"]["stat_prefix"] == "tcp_rate_limit"
    assert first["typed_config"]["token_bucket"] == {
        "max_tokens": 5,
        "tokens_per_fill": 5,
        "fill_interval": "1s",
    }
    assert last["name"] == "envoy.filters.network.tcp_proxy"


def test_tcp_limit_applies_to_http_inbounds_too() -> None:
    """Kuma's ConfigureFilterChain applies local.tcp whatever the listener's protocol."""
    local = "          tcp: {connectionRate: {num: 5, interval: 1s}}"
    result = compiled(policy("rl", "{kind: MeshService, name: api}", local))
    names = [f["name"] for f in listener(result)["filter_chains"][0]["filters"]]
    assert names == [
        "envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit",
        "envoy.filters.network.http_connection_manager",
    ]


def test_disabled_removes_an_inherited_limit() -> None:
    """http.disabled / tcp.disabled in a more specific policy: no filter at all (Kuma's
    http_disabled golden)."""
    broad = policy(
        "all",
        "{kind: Mesh, proxyTypes: [Sidecar]}",
        HTTP_LIMIT + "\n          tcp: {connectionRate: {num: 5, interval: 1s}}",
    )
    narrow = policy(
        "api-off",
        "{kind: MeshService, name: api}",
        "          http: {disabled: true}\n          tcp: {disabled: true}",
    )
    found = listener(compiled(broad, narrow))
    (network,) = found["filter_chains"][0]["filters"]
    assert [f["name"] for f in hcm_of(found)["http_filters"]] == ["envoy.filters.http.router"]
    assert network["name"] == "envoy.filters.network.http_connection_manager"


def test_tcp_only_limit_adds_no_http_filter() -> None:
    """Without local.http the HCM keeps only the router."""
    local = "          tcp: {connectionRate: {num: 5, interval: 1s}}"
    hcm = hcm_of_last(compiled(policy("rl", "{kind: MeshService, name: api}", local)))
    assert [f["name"] for f in hcm["http_filters"]] == ["envoy.filters.http.router"]


def hcm_of_last(result: CompileResult) -> dict[str, Any]:
    network = listener(result)["filter_chains"][0]["filters"][-1]
    return dict(network["typed_config"])


MTLS_MESH = """
type: Mesh
name: default
skipCreatingInitialPolicies: ['*']
mtls:
  enabledBackend: ca-1
  backends:
    - name: ca-1
      type: builtin
"""
ALLOW_ALL = """
type: MeshTrafficPermission
name: allow-all
mesh: default
spec:
  targetRef: {kind: Mesh}
  from:
    - targetRef: {kind: Mesh}
      default: {action: Allow}
"""


def test_with_mtls_http_inbound_keeps_http_rbac_behind_the_tcp_limit() -> None:
    """The RBAC of MeshTrafficPermission goes into the HCM even when a network rate limit
    filter precedes it in the chain."""
    local = "          tcp: {connectionRate: {num: 5, interval: 1s}}"
    result = compile_yaml(
        MTLS_MESH,
        dataplane("api-1", "127.0.0.3", "api"),
        ALLOW_ALL,
        policy("rl", "{kind: MeshService, name: api}", local),
    )
    filters = listener(result)["filter_chains"][0]["filters"]
    assert [f["name"] for f in filters] == [
        "envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit",
        "envoy.filters.network.http_connection_manager",
    ]
    http_names = [f["name"] for f in filters[-1]["typed_config"]["http_filters"]]
    assert http_names == ["envoy.filters.http.rbac", "envoy.filters.http.router"]
