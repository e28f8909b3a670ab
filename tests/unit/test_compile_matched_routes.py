"""MeshTimeout ``rules[]`` with ``spiffeID`` matches, with expected values from Kuma 2.14's
``meshtimeout/plugin/xds/configurer.go`` (``ConfigureMatchedRoutes``,
``effectiveMatchedRouteRules``, ``ensureMatchFilterStateFilter``,
``ConfigureMatchedRouteAction``) and ``meshtimeout/plugin/v1alpha1/plugin.go``
``applyToInbounds`` (``SkipCommonConfig`` when no rule is a catch-all)."""

from __future__ import annotations

from typing import Any

from envoy.extensions.filters.common.set_filter_state.v3 import value_pb2 as envoy_filter_state
from test_compile_core import MESH, compile_yaml, dataplane, named

from reconciler.compile import matched_routes
from reconciler.resource_types import TypeUrl

BARE = MESH + "skipCreatingInitialPolicies: ['*']\n"
API = dataplane("api-1", "127.0.0.3", "api")
RULES = """
type: MeshTimeout
name: by-peer
mesh: default
spec:
  targetRef: {kind: MeshService, name: api}
  rules:
    - matches:
        - spiffeID: {type: Prefix, value: "spiffe://default"}
      default: {http: {requestTimeout: 2s, streamIdleTimeout: 20s}}
    - matches:
        - spiffeID: {type: Exact, value: "spiffe://default/web"}
      default: {http: {requestTimeout: 1s}}
"""


def inbound(*docs: str) -> dict[str, Any]:
    config = compile_yaml(BARE, API, *docs).configs["default.api-1"]
    return named(config, TypeUrl.LISTENER, "inbound:127.0.0.3:8080")


def hcm(listener: dict[str, Any]) -> dict[str, Any]:
    filters = listener["filter_chains"][0]["filters"]
    return next(f["typed_config"] for f in filters if f["name"].endswith("connection_manager"))


def test_routes_are_copied_per_peer_most_specific_first() -> None:
    """Rules with a spiffeID (Kuma's validator allows only requestTimeout and
    streamIdleTimeout there), Exact before Prefix; the Exact web rule merges the Prefix rule that
    covers it (least specific first): 1s and the prefix's 20s; the Prefix rule alone: 2s,
    20s. The original route comes last, untouched: no catch-all rule -> SkipCommonConfig."""
    routes = hcm(inbound(RULES))["route_config"]["virtual_hosts"][0]["routes"]
    summary = [
        (
            [(m["key"], m["string_match"]) for m in r["match"].get("filter_state", [])],
            r["route"].get("timeout"),
            r["route"].get("idle_timeout"),
        )
        for r in routes
    ]
    key = "kuma.mesh_timeout.match.spiffe_id"
    assert summary == [
        ([(key, {"exact": "spiffe://default/web"})], "1s", "20s"),
        ([(key, {"prefix": "spiffe://default"})], "2s", "20s"),
        ([], None, None),
    ]


def test_the_peer_uri_san_is_put_in_filter_state_after_the_tls_handshake() -> None:
    """``ensureMatchFilterStateFilter``: set_filter_state first in the chain, the key from
    ``%DOWNSTREAM_PEER_URI_SAN%`` on_downstream_tls_handshake, envoy.string, read only,
    skipped when empty."""
    config = compile_yaml(BARE, API, RULES).configs["default.api-1"]
    listener = config.by_name()[TypeUrl.LISTENER]["inbound:127.0.0.3:8080"]
    first = listener.filter_chains[0].filters[0]
    assert first.name == "envoy.filters.network.set_filter_state"
    raw = first.typed_config.value
    # field 2 (on_downstream_tls_handshake), length-delimited: tag 0x12
    assert raw[0] == 0x12
    value = envoy_filter_state.FilterStateValue()
    value.ParseFromString(raw[2 : 2 + raw[1]])
    assert value.object_key == "kuma.mesh_timeout.match.spiffe_id"
    assert value.factory_key == "envoy.string"
    assert value.format_string.text_format_source.inline_string == "%DOWNSTREAM_PEER_URI_SAN%"
    assert value.read_only and value.skip_if_empty
    assert len(raw) == 2 + raw[1]  # one value: no rule has an SNI match


def test_a_catch_all_rule_keeps_the_common_config() -> None:
    catch_all = RULES.replace(
        "  rules:\n", "  rules:\n    - default: {http: {requestTimeout: 7s}}\n", 1
    )
    listener = inbound(catch_all)
    routes = hcm(listener)["route_config"]["virtual_hosts"][0]["routes"]
    # copies keep the common values they do not override; the original gets the catch-all
    assert [r["route"]["timeout"] for r in routes] == ["1s", "2s", "7s"]
    assert routes[-1]["route"]["idle_timeout"] == "1800s"


def test_effective_rules_merge_covering_prefixes_least_specific_first() -> None:
    rules = [
        (
            {"spiffeID": {"type": "Prefix", "value": "spiffe://a/"}},
            {"http": {"requestTimeout": "3s"}},
        ),
        (
            {"spiffeID": {"type": "Prefix", "value": "spiffe://a/b"}},
            {"http": {"streamIdleTimeout": "4s"}},
        ),
        (
            {"spiffeID": {"type": "Exact", "value": "spiffe://a/b"}},
            {"http": {"requestTimeout": "5s"}},
        ),
    ]
    wanted = matched_routes.matched(rules, lambda d: True)
    got = [(m["spiffeID"]["value"], c) for m, c in matched_routes.effective_rules(wanted)]
    assert got == [
        ("spiffe://a/b", {"http": {"requestTimeout": "5s", "streamIdleTimeout": "4s"}}),
        ("spiffe://a/b", {"http": {"requestTimeout": "3s", "streamIdleTimeout": "4s"}}),
        ("spiffe://a/", {"http": {"requestTimeout": "3s"}}),
    ]


RATE_LIMITS = """
type: MeshRateLimit
name: limits
mesh: default
spec:
  targetRef: {kind: MeshService, name: api}
  rules:
    - default:
        local:
          http: {requestRate: {num: 100, interval: 1s}}
    - matches:
        - spiffeID: {type: Exact, value: "spiffe://default/web"}
      default:
        local:
          http: {requestRate: {num: 5, interval: 10s}}
"""


def test_rate_limit_rules_copy_routes_with_the_peers_limit() -> None:
    """meshratelimit ``ConfigureMatchedRoutesOnFilterChain``: the web copy carries the merge
    of the catch-all conf and its rule (5 per 10s), the original the catch-all's 100 per 1s;
    filter state under ``kuma.mesh_rate_limit.match.spiffe_id``; one local_ratelimit filter."""
    config = compile_yaml(BARE, API, RATE_LIMITS).configs["default.api-1"]
    listener = named(config, TypeUrl.LISTENER, "inbound:127.0.0.3:8080")
    chain = listener["filter_chains"][0]["filters"]
    assert [f["name"] for f in chain] == [
        "envoy.filters.network.set_filter_state",
        "envoy.filters.network.http_connection_manager",
    ]
    manager = hcm(listener)
    routes = manager["route_config"]["virtual_hosts"][0]["routes"]
    limit = "envoy.filters.http.local_ratelimit"
    buckets = [r["typed_per_filter_config"][limit]["token_bucket"] for r in routes]
    assert buckets == [
        {"max_tokens": 5, "tokens_per_fill": 5, "fill_interval": "10s"},
        {"max_tokens": 100, "tokens_per_fill": 100, "fill_interval": "1s"},
    ]
    assert routes[0]["match"]["filter_state"] == [
        {
            "key": "kuma.mesh_rate_limit.match.spiffe_id",
            "string_match": {"exact": "spiffe://default/web"},
        }
    ]
    assert [f["name"] for f in manager["http_filters"]].count(limit) == 1


def test_timeout_and_rate_limit_rules_share_one_filter_state_filter() -> None:
    """MeshTimeout creates the set_filter_state filter; MeshRateLimit appends its missing
    value (``appendMissingFilterStateValues``)."""
    config = compile_yaml(BARE, API, RULES, RATE_LIMITS).configs["default.api-1"]
    listener = config.by_name()[TypeUrl.LISTENER]["inbound:127.0.0.3:8080"]
    states = [f for f in listener.filter_chains[0].filters if f.name.endswith("set_filter_state")]
    assert len(states) == 1
    keys = []
    for value in matched_routes.filter_state_values(states[0].typed_config.value):
        parsed = envoy_filter_state.FilterStateValue()
        parsed.ParseFromString(value)
        keys.append(parsed.object_key)
    assert sorted(keys) == [
        "kuma.mesh_rate_limit.match.spiffe_id",
        "kuma.mesh_timeout.match.spiffe_id",
    ]
