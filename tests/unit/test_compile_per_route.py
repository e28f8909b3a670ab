"""Policies whose top-level targetRef is a MeshHTTPRoute: confs on that route's routes only.

Expected values from Kuma 2.14's code: ``core/rules/rules.go`` ``buildToListWithRoutes``
(each ``to[].default`` becomes an item for ``{kuma.io/service, __rule-matches-hash__}`` per
rule of the MeshHTTPRoute), ``core/matchers/dataplane.go`` (such a policy selects the
proxies the MeshHTTPRoute selects), ``meshtimeout/plugin/xds/configurer.go``
``DeprecatedListenerConfigurer.configureRequestTimeout`` and ``meshretry/plugin/xds/
configurer.go`` ``DeprecatedConfigurer.ConfigureRoute`` (per route: the route's conf, else
the service's; MeshRetry keeps the service's policy when the route's gives none).
"""

from __future__ import annotations

from typing import Any

from test_compile_core import MESH, compile_yaml, dataplane, named

from reconciler.resource_types import TypeUrl

NO_POLICY_TIMEOUT = "0s"
"""A route with no MeshTimeout: the route builder's timeout 0s (Envoy: no timeout)."""
BARE = MESH + "skipCreatingInitialPolicies: ['*']\n"
PROXIES = (
    dataplane("web-1", "127.0.0.2", "web", outbounds=[("api", 10001)]),
    dataplane("other-1", "127.0.0.5", "other", outbounds=[("api", 10001)]),
    dataplane("api-1", "127.0.0.3", "api"),
)
ROUTE = """
type: MeshHTTPRoute
name: api-paths
mesh: default
spec:
  targetRef: {kind: MeshService, name: web}
  to:
    - targetRef: {kind: MeshService, name: api}
      rules:
        - matches: [{path: {type: PathPrefix, value: /slow}}]
          default: {}
        - matches: [{path: {type: Exact, value: /fast}}, {path: {type: PathPrefix, value: /quick}}]
          default: {}
"""
SERVICE_TIMEOUT = """
type: MeshTimeout
name: api-timeouts
mesh: default
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: api}
      default:
        http: {requestTimeout: 5s, streamIdleTimeout: 10s}
"""
ROUTE_TIMEOUT = """
type: MeshTimeout
name: slow-route
mesh: default
spec:
  targetRef: {kind: MeshHTTPRoute, name: api-paths}
  to:
    - targetRef: {kind: Mesh}
      default:
        http: {requestTimeout: 1s}
"""


def actions(node: str, *docs: str) -> dict[str, dict[str, Any]]:
    config = compile_yaml(BARE, *PROXIES, *docs).configs[node]
    rc = named(config, TypeUrl.ROUTE, "outbound:api")
    out: dict[str, dict[str, Any]] = {}
    for route in rc["virtual_hosts"][0]["routes"]:
        match = route["match"]
        key = match.get("path") or match.get("prefix") or match.get("path_separated_prefix")
        out.setdefault(str(key), route["route"])
    return out


def test_a_timeout_targeting_a_route_sets_only_that_routes_rules() -> None:
    """Every route of the MeshHTTPRoute's rules (each match of a rule) takes the merge of
    the service's conf then the route policy's: 1s request timeout, the service's 10s
    stream idle timeout; the implicit catch-all keeps the service's 5s."""
    got = actions("default.web-1", ROUTE, SERVICE_TIMEOUT, ROUTE_TIMEOUT)
    assert {k: (v["timeout"], v["idle_timeout"]) for k, v in got.items()} == {
        "/slow": ("1s", "10s"),
        "/slow/": ("1s", "10s"),  # PathPrefix is an exact path and a prefix route
        "/fast": ("1s", "10s"),
        "/quick": ("1s", "10s"),
        "/quick/": ("1s", "10s"),
        "/": ("5s", "10s"),
    }


def test_without_a_service_conf_other_routes_get_no_timeout_from_it() -> None:
    got = actions("default.web-1", ROUTE, ROUTE_TIMEOUT)
    assert got["/slow"]["timeout"] == "1s"
    assert got["/"]["timeout"] == NO_POLICY_TIMEOUT


def test_a_route_policy_selects_the_proxies_its_route_selects() -> None:
    """``DppSelectedByPolicy`` resolves the MeshHTTPRoute and uses its targetRef (web):
    ``other`` has no MeshHTTPRoute rules and no timeout from the route policy."""
    other = actions("default.other-1", ROUTE, ROUTE_TIMEOUT)
    assert list(other) == ["/"] and other["/"]["timeout"] == NO_POLICY_TIMEOUT


def test_a_retry_targeting_a_route_overrides_the_services_retry_on_its_routes() -> None:
    service_retry = """
type: MeshRetry
name: api-retry
mesh: default
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: api}
      default:
        http: {numRetries: 2}
"""
    route_retry = """
type: MeshRetry
name: slow-retry
mesh: default
spec:
  targetRef: {kind: MeshHTTPRoute, name: api-paths}
  to:
    - targetRef: {kind: Mesh}
      default:
        http: {numRetries: 7}
"""
    got = actions("default.web-1", ROUTE, service_retry, route_retry)
    assert got["/slow"]["retry_policy"]["num_retries"] == 7
    assert got["/"]["retry_policy"]["num_retries"] == 2
    no_retries = route_retry.replace("numRetries: 7", "numRetries: 0")
    kept = actions("default.web-1", ROUTE, service_retry, no_retries)
    # GetRouteRetryConfig gives nil for numRetries 0: ConfigureRoute falls back to the default
    assert kept["/slow"]["retry_policy"]["num_retries"] == 2


def test_no_not_applied_warning_for_a_route_target() -> None:
    result = compile_yaml(BARE, *PROXIES, ROUTE, ROUTE_TIMEOUT)
    assert not any("MeshHTTPRoute" in n for n in result.configs["default.web-1"].notes)
