"""MeshHTTPRoute and MeshTCPRoute: Kuma 2.14 route shapes, merging by matches, ordering."""

from __future__ import annotations

from typing import Any

from test_compile_core import (
    MESH,
    TWO_SERVICES,
    compile_yaml,
    dataplane,
    load_resources,
    named,
    route_action,
)

from reconciler import names
from reconciler.resource_types import TypeUrl
from reconciler.validate import check_resource

THREE = (
    MESH,
    dataplane("web-1", "127.0.0.2", "web", outbounds=[("api", 10001)]),
    dataplane("api-1", "127.0.0.3", "api", tags={"version": "v1"}),
    dataplane("api-2", "127.0.0.4", "api", tags={"version": "v2"}),
)


def http_route(name: str, rules: str, target: str = "{kind: MeshService, name: web}") -> str:
    return f"""
type: MeshHTTPRoute
name: {name}
mesh: default
spec:
  targetRef: {target}
  to:
    - targetRef: {{kind: MeshService, name: api}}
      rules:
{rules}
"""


def routes(docs: tuple[str, ...]) -> list[dict[str, Any]]:
    config = compile_yaml(*docs).configs["default.web-1"]
    rc = named(config, TypeUrl.ROUTE, "outbound:api")
    return list(rc["virtual_hosts"][0]["routes"])


def test_without_route_traffic_goes_to_the_service_cluster() -> None:
    """Kuma's implicit default rule: PathPrefix / to the destination service."""
    assert routes(TWO_SERVICES)[0]["match"] == {"prefix": "/"}
    assert routes(TWO_SERVICES)[0]["route"]["cluster"] == "api"


def test_weighted_subset_backends_get_subset_clusters_with_matching_endpoints() -> None:
    """MeshServiceSubset backendRefs: cluster <service>-<hash> holding only tagged endpoints."""
    rules = """
        - matches: [{path: {type: PathPrefix, value: /}}]
          default:
            backendRefs:
              - {kind: MeshServiceSubset, name: api, tags: {version: v1}, weight: 80}
              - {kind: MeshServiceSubset, name: api, tags: {version: v2}, weight: 20}
"""
    docs = (*THREE, http_route("split", rules))
    config = compile_yaml(*docs).configs["default.web-1"]
    v1 = names.subset_cluster("api", {"version": "v1"})
    v2 = names.subset_cluster("api", {"version": "v2"})
    assert v1.startswith("api-") and len(v1) == len("api-") + 16 and v1 != v2
    weighted = route_action(config, "api")["route"]["weighted_clusters"]["clusters"]
    assert weighted == [{"name": v1, "weight": 80}, {"name": v2, "weight": 20}]
    cla = named(config, TypeUrl.ENDPOINT, v2)
    addresses = [
        e["endpoint"]["address"]["socket_address"]["address"]
        for e in cla["endpoints"][0]["lb_endpoints"]
    ]
    assert addresses == ["127.0.0.4"]
    assert set(config.by_name()[TypeUrl.CLUSTER]) == {v1, v2, "localhost:18080"}


def test_rules_with_equal_matches_merge_across_policies() -> None:
    """merge.go mergeValuesByKey: rules keyed by matches; the more specific conf wins per field."""
    general = http_route(
        "zzz-general",
        """
        - matches: [{path: {type: Exact, value: /v1}}]
          default:
            filters:
              - {type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: x-a, value: "1"}]}}
            backendRefs: [{kind: MeshServiceSubset, name: api, tags: {version: v1}}]
""",
        target="{kind: Mesh}",
    )
    specific = http_route(
        "aaa-specific",
        """
        - matches: [{path: {type: Exact, value: /v1}}]
          default:
            backendRefs: [{kind: MeshServiceSubset, name: api, tags: {version: v2}}]
""",
        target="{kind: Mesh}",
    )
    found = routes((*THREE, general, specific))
    assert [r["match"] for r in found] == [{"path": "/v1"}, {"prefix": "/"}]
    exact = found[0]
    assert exact["route"]["cluster"] == names.subset_cluster("api", {"version": "v2"})
    assert exact["request_headers_to_add"][0]["header"] == {"key": "x-a", "value": "1"}


def test_routes_follow_kuma_compare_match() -> None:
    """compare.go CompareMatch: path before no path; Exact > PathPrefix > RegularExpression
    (longer first); then method, more headers, more query params."""
    rules = """
        - matches: [{path: {type: RegularExpression, value: "/r.*"}}]
          default: {}
        - matches: [{path: {type: PathPrefix, value: /a}}]
          default: {}
        - matches: [{path: {type: PathPrefix, value: /a/b}}]
          default: {}
        - matches: [{path: {type: Exact, value: /a/b/c}}]
          default: {}
        - matches: [{path: {type: PathPrefix, value: /a}, method: GET}]
          default: {}
        - matches: [{headers: [{name: x-h, type: Present}]}]
          default: {}
        - matches: [{queryParams: [{name: q, type: Exact, value: "1"}]}]
          default: {}
"""
    result = compile_yaml(*TWO_SERVICES, http_route("order", rules))
    rc = named(result.configs["default.web-1"], TypeUrl.ROUTE, "outbound:api")
    matches = [r["match"] for r in rc["virtual_hosts"][0]["routes"]]
    method = [{"name": ":method", "string_match": {"exact": "GET"}}]
    # listeners.go prepareRoutes: the user's routes sorted, then the implicit catch-all last;
    # configurer.go: PathPrefix /x is `path: /x` plus `prefix: /x/`; no path is prefix /.
    assert matches == [
        {"path": "/a/b/c"},
        {"path": "/a/b"},
        {"prefix": "/a/b/"},
        {"path": "/a", "headers": method},
        {"prefix": "/a/", "headers": method},
        {"path": "/a"},
        {"prefix": "/a/"},
        {"safe_regex": {"regex": "/r.*"}},
        {"prefix": "/", "headers": [{"name": "x-h", "present_match": True}]},
        {"prefix": "/", "query_parameters": [{"name": "q", "string_match": {"exact": "1"}}]},
        {"prefix": "/"},
    ]
    # Header-only and query-only rules are reached: nothing is shadowed.
    assert [d for d in result.diagnostics if d.code == "RC504"] == []


def test_a_policy_catch_all_rule_shadows_rules_without_a_path() -> None:
    """A PathPrefix / rule written in a policy sorts before rules without a path (RC504)."""
    rules = """
        - matches: [{headers: [{name: x-h, type: Exact, value: "1"}]}]
          default: {}
        - matches: [{path: {type: PathPrefix, value: /}}]
          default: {}
"""
    result = compile_yaml(*TWO_SERVICES, http_route("catch", rules))
    rc = named(result.configs["default.web-1"], TypeUrl.ROUTE, "outbound:api")
    matches = [r["match"] for r in rc["virtual_hosts"][0]["routes"]]
    assert matches == [
        {"prefix": "/"},
        {"prefix": "/", "headers": [{"name": "x-h", "string_match": {"exact": "1"}}]},
    ]
    shadowed = [d.field for d in result.diagnostics if d.code == "RC504"]
    assert shadowed == ["spec.to[0].rules[0].matches"]


def test_a_rule_whose_backends_take_no_traffic_is_dropped() -> None:
    """core/xds/meshroute MakeHTTPSplit: weight 0 and services no Dataplane provides (no HTTP
    protocol) leave no split; listeners.go skips the route, so traffic falls through."""
    rules = """
        - matches: [{path: {type: PathPrefix, value: /gone}}]
          default:
            backendRefs: [{kind: MeshService, name: nowhere}]
        - matches: [{path: {type: PathPrefix, value: /zero}}]
          default:
            backendRefs: [{kind: MeshService, name: api, weight: 0}]
        - matches: [{path: {type: PathPrefix, value: /half}}]
          default:
            backendRefs: [{kind: MeshService, name: nowhere, weight: 5}, {kind: MeshService, name: api}]
"""
    result = compile_yaml(*TWO_SERVICES, http_route("drop", rules))
    rc = named(result.configs["default.web-1"], TypeUrl.ROUTE, "outbound:api")
    found = [(r["match"], r["route"]["cluster"]) for r in rc["virtual_hosts"][0]["routes"]]
    assert found == [
        ({"path": "/half"}, "api"),
        ({"prefix": "/half/"}, "api"),
        ({"prefix": "/"}, "api"),
    ]
    dropped = sorted(d.field or "" for d in result.diagnostics if "drops the rule" in d.message)
    assert dropped == ["spec.to[0].rules[0].default.backendRefs"]
    # every weight 0 is known before compiling: validation warns (RC503), compile stays quiet
    [route] = [r for r in load_resources(http_route("drop", rules)) if r.kind == "MeshHTTPRoute"]
    warned = [(d.code, d.field) for d in check_resource(route) if d.code == "RC503"]
    assert warned == [("RC503", "spec.to[0].rules[1].default.backendRefs")]


def test_filters_redirect_rewrite_mirror_and_header_modifiers() -> None:
    rules = """
        - matches: [{path: {type: Exact, value: /old}}]
          default:
            filters:
              - type: RequestRedirect
                requestRedirect: {scheme: https, hostname: example.test, statusCode: 301, path: {type: ReplaceFullPath, replaceFullPath: /new}}
        - matches: [{path: {type: PathPrefix, value: /v1}}]
          default:
            filters:
              - type: URLRewrite
                urlRewrite: {hostname: api.internal, path: {type: ReplacePrefixMatch, replacePrefixMatch: /v2}}
              - type: RequestMirror
                requestMirror: {backendRef: {kind: MeshServiceSubset, name: api, tags: {version: v2}}, percentage: 25}
              - type: RequestHeaderModifier
                requestHeaderModifier: {add: [{name: x-add, value: a}], remove: [x-drop]}
              - type: ResponseHeaderModifier
                responseHeaderModifier: {remove: [server]}
"""
    found = {
        r["match"].get("path", r["match"].get("prefix")): r
        for r in routes((*THREE, http_route("f", rules)))
    }
    redirect = found["/old"]["redirect"]
    redirect.setdefault("response_code", "MOVED_PERMANENTLY")  # enum value 0: omitted in JSON
    # filters/requestredirect.go: ReplaceFullPath is a regex rewrite of the whole path
    assert redirect == {
        "scheme_redirect": "https",
        "host_redirect": "example.test",
        "regex_rewrite": {"pattern": {"regex": ".*"}, "substitution": "/new"},
        "response_code": "MOVED_PERMANENTLY",
    }
    assert "route" not in found["/old"]
    # filters/urlrewrite.go ReplacePrefixMatch: the `path: /v1` route rewrites the whole
    # path with a regex, the `prefix: /v1/` route uses prefix_rewrite
    exact, prefix = found["/v1"], found["/v1/"]
    assert exact["route"]["regex_rewrite"] == {"pattern": {"regex": ".*"}, "substitution": "/v2"}
    assert "prefix_rewrite" not in exact["route"]
    assert prefix["route"]["prefix_rewrite"] == "/v2"
    rewrite = prefix
    assert rewrite["route"]["host_rewrite_literal"] == "api.internal"
    mirror = rewrite["route"]["request_mirror_policies"][0]
    assert mirror["cluster"] == names.subset_cluster("api", {"version": "v2"})
    # ConvertPercentage: a whole number of percent is over HUNDRED
    assert mirror["runtime_fraction"]["default_value"] == {"numerator": 25}
    added = rewrite["request_headers_to_add"][0]
    assert added["header"] == {"key": "x-add", "value": "a"}
    assert "append_action" not in added  # APPEND_IF_EXISTS_OR_ADD is enum value 0
    assert rewrite["request_headers_to_remove"] == ["x-drop"]
    assert rewrite["response_headers_to_remove"] == ["server"]


def test_unsupported_backend_kind_is_reported_not_dropped_silently() -> None:
    rules = """
        - matches: [{path: {type: PathPrefix, value: /ext}}]
          default:
            backendRefs:
              - {kind: MeshMultiZoneService, name: api, port: 80}
              - {kind: MeshExternalService, name: httpbin}
              - {kind: MeshService, name: api}
"""
    result = compile_yaml(*TWO_SERVICES, http_route("ext", rules))
    assert [d.code for d in result.diagnostics] == ["RC502", "RC502"]
    assert [d.field for d in result.diagnostics] == [
        "spec.to[0].rules[0].default.backendRefs[0].kind",
        "spec.to[0].rules[0].default.backendRefs[1]",
    ]
    assert "names no MeshExternalService (httpbin)" in result.diagnostics[1].message


def test_tcp_route_splits_tcp_traffic() -> None:
    """MeshTCPRoute: tcp_proxy weighted_clusters over the backendRefs."""
    docs = (
        MESH,
        dataplane("web-1", "127.0.0.2", "web", outbounds=[("db", 10001)]),
        dataplane("db-1", "127.0.0.3", "db", protocol="tcp", tags={"role": "primary"}),
        dataplane("db-2", "127.0.0.4", "db", protocol="tcp", tags={"role": "replica"}),
        """
type: MeshTCPRoute
name: db-split
mesh: default
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: db}
      rules:
        - default:
            backendRefs:
              - {kind: MeshServiceSubset, name: db, tags: {role: primary}, weight: 3}
              - {kind: MeshServiceSubset, name: db, tags: {role: replica}, weight: 1}
""",
    )
    config = compile_yaml(*docs).configs["default.web-1"]
    listener = named(config, TypeUrl.LISTENER, "outbound:127.0.0.1:10001")
    tcp = listener["filter_chains"][0]["filters"][0]["typed_config"]
    assert tcp["weighted_clusters"]["clusters"] == [
        {"name": names.subset_cluster("db", {"role": "primary"}), "weight": 3},
        {"name": names.subset_cluster("db", {"role": "replica"}), "weight": 1},
    ]
    assert tcp["idle_timeout"] == "3600s"
    assert tcp["max_connect_attempts"] == 5


def test_http_route_takes_precedence_over_tcp_route_for_http_services() -> None:
    tcp = """
type: MeshTCPRoute
name: tcp
mesh: default
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: api}
      rules:
        - default:
            backendRefs: [{kind: MeshServiceSubset, name: api, tags: {version: v2}}]
"""
    # meshtcproute listeners_backendrefs.go: without a MeshHTTPRoute, MeshTCPRoute routes the
    # HTTP outbound as a tcp_proxy (no route configuration)
    config = compile_yaml(*THREE, tcp).configs["default.web-1"]
    assert TypeUrl.ROUTE not in config.by_name()
    listener = named(config, TypeUrl.LISTENER, "outbound:127.0.0.1:10001")
    tcp_proxy = listener["filter_chains"][0]["filters"][0]["typed_config"]
    assert tcp_proxy["cluster"] == names.subset_cluster("api", {"version": "v2"})
    http = http_route(
        "http",
        """
        - matches: [{path: {type: PathPrefix, value: /}}]
          default:
            backendRefs: [{kind: MeshServiceSubset, name: api, tags: {version: v1}}]
""",
    )
    both = routes((*THREE, tcp, http))
    assert both[0]["route"]["cluster"] == names.subset_cluster("api", {"version": "v1"})


def test_retry_on_maps_kuma_conditions_status_codes_and_methods() -> None:
    """meshretry configurer: conditions, retriable status codes, retriable methods."""
    policy = """
type: MeshRetry
name: codes
mesh: default
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: api}
      default:
        http:
          numRetries: 2
          retryOn: [5XX, "503", HttpMethodGet]
"""
    route = route_action(compile_yaml(*TWO_SERVICES, policy).configs["default.web-1"], "api")
    retry = route["route"]["retry_policy"]
    assert retry["retry_on"] == "5xx,retriable-status-codes"
    assert retry["retriable_status_codes"] == [503]
    # one exact :method matcher per method (genHttpRetryPolicy)
    assert retry["retriable_request_headers"] == [
        {"name": ":method", "string_match": {"exact": "GET"}}
    ]


def _retry(default: str, protocol: str = "http") -> dict[str, Any] | None:
    policy = f"""
type: MeshRetry
name: r
mesh: default
spec:
  targetRef: {{kind: Mesh}}
  to:
    - targetRef: {{kind: MeshService, name: api}}
      default: {default}
"""
    docs = (
        MESH,
        dataplane("web-1", "127.0.0.2", "web", outbounds=[("api", 10001)]),
        dataplane("api-1", "127.0.0.3", "api", protocol=protocol),
        policy,
    )
    route = route_action(compile_yaml(*docs).configs["default.web-1"], "api")["route"]
    retry: dict[str, Any] | None = route.get("retry_policy")
    return retry


def test_num_retries_zero_means_no_retry_policy() -> None:
    """genHttpRetryPolicy / genGrpcRetryPolicy: numRetries 0 -> no retry policy at all."""
    assert _retry("{http: {numRetries: 0, perTryTimeout: 1s}}") is None
    assert _retry("{grpc: {numRetries: 0}}", protocol="grpc") is None


def test_grpc_retry_tokens_and_http2_gets_no_route_retries() -> None:
    """GrpcRetryOnEnumToEnvoyValue tokens; GetRouteRetryConfig ignores other protocols."""
    grpc = _retry("{grpc: {retryOn: [Canceled, DeadlineExceeded, ResourceExhausted]}}", "grpc")
    assert grpc is not None
    assert grpc["retry_on"] == "cancelled,deadline-exceeded,resource-exhausted"
    default = _retry("{grpc: {numRetries: 3}}", "grpc")
    assert default is not None
    assert default["retry_on"] == (
        "cancelled,connect-failure,gateway-error,refused-stream,reset,resource-exhausted,"
        "unavailable"
    )
    assert _retry("{http: {numRetries: 3}}", "http2") is None


def test_retry_methods_only_keep_the_default_conditions() -> None:
    """splitRetryOn: methods are not conditions, so retry_on keeps Kuma's default."""
    retry = _retry("{http: {retryOn: [HttpMethodPost, HttpMethodPut]}}")
    assert retry is not None
    assert retry["retry_on"] == "gateway-error,connect-failure,refused-stream"
    assert [h["string_match"]["exact"] for h in retry["retriable_request_headers"]] == [
        "POST",
        "PUT",
    ]


def test_timeouts_land_on_cluster_listener_and_route() -> None:
    policy = """
type: MeshTimeout
name: all
mesh: default
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: api}
      default:
        connectionTimeout: 1s
        idleTimeout: 2m
        http: {requestTimeout: 3s, streamIdleTimeout: 4s, maxStreamDuration: 5s, requestHeadersTimeout: 6s}
"""
    config = compile_yaml(*TWO_SERVICES, policy).configs["default.web-1"]
    cluster = named(config, TypeUrl.CLUSTER, "api")
    assert cluster["connect_timeout"] == "1s"
    common = cluster["typed_extension_protocol_options"][
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    ]["common_http_protocol_options"]
    assert common["idle_timeout"] == "120s" and common["max_stream_duration"] == "5s"
    hcm = named(config, TypeUrl.LISTENER, "outbound:127.0.0.1:10001")["filter_chains"][0][
        "filters"
    ][0]["typed_config"]
    # meshtimeout configurer.go: ConfigureRouteAction puts streamIdleTimeout on each route
    assert "stream_idle_timeout" not in hcm and hcm["request_headers_timeout"] == "6s"
    action = route_action(config, "api")["route"]
    assert action["timeout"] == "3s" and action["idle_timeout"] == "4s"


def test_a_to_only_mesh_timeout_gives_inbounds_kuma_defaults() -> None:
    """applyToInbounds: with no inbound rule, the inbound listener and cluster still get
    Kuma's defaults (15s request, 30m stream idle, 5s connect, 1h idle)."""
    mesh = MESH + "skipCreatingInitialPolicies: ['*']\n"
    policy = """
type: MeshTimeout
name: to-only
mesh: default
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: Mesh}
      default: {connectionTimeout: 2s}
"""
    config = compile_yaml(mesh, *TWO_SERVICES[1:], policy).configs["default.api-1"]
    listener = named(config, TypeUrl.LISTENER, "inbound:127.0.0.3:8080")
    hcm = listener["filter_chains"][0]["filters"][-1]["typed_config"]
    route = hcm["route_config"]["virtual_hosts"][0]["routes"][0]["route"]
    assert route["timeout"] == "15s" and route["idle_timeout"] == "1800s"
    assert hcm["request_headers_timeout"] == "0s"
    cluster = named(config, TypeUrl.CLUSTER, "localhost:18080")
    assert cluster["connect_timeout"] == "5s"
    without = compile_yaml(mesh, *TWO_SERVICES[1:]).configs["default.api-1"]
    plain = named(without, TypeUrl.LISTENER, "inbound:127.0.0.3:8080")["filter_chains"][0]
    assert (
        "timeout"
        not in plain["filters"][-1]["typed_config"]["route_config"]["virtual_hosts"][0]["routes"][
            0
        ]["route"]
    )
