"""MeshFaultInjection: each test names the Kuma 2.14 behaviour it reproduces
(``pkg/plugins/policies/meshfaultinjection/plugin/xds/configurer.go``, Kuma's
``ConvertPercentage`` and ``ConvertBandwidthToKbps``)."""

from __future__ import annotations

from typing import Any

import pytest
from test_compile_core import MESH, compile_yaml, dataplane, hcm_of, load_resources, named

from reconciler.compile.compiler import Compiler, CompileResult, compile_resources
from reconciler.compile.decimals import fractional_percent
from reconciler.errors import CompileError
from reconciler.kinds.mesh_fault_injection.plugin import bandwidth_kbps
from reconciler.resource_types import TypeUrl

BARE_MESH = MESH + "skipCreatingInitialPolicies: ['*']\n"


def compiled(http: str, from_ref: str = "{kind: Mesh}", protocol: str = "http") -> CompileResult:
    policy = f"""
type: MeshFaultInjection
name: chaos
mesh: default
spec:
  targetRef: {{kind: MeshService, name: api}}
  from:
    - targetRef: {from_ref}
      default:
        http:
{http}
"""
    return compile_yaml(
        BARE_MESH, dataplane("api-1", "127.0.0.3", "api", protocol=protocol), policy
    )


FAULT = "envoy.filters.http.fault"


def http_filters(result: CompileResult) -> list[dict[str, Any]]:
    listener = named(result.configs["default.api-1"], TypeUrl.LISTENER, "inbound:127.0.0.3:8080")
    return list(hcm_of(listener)["http_filters"])


def test_each_http_entry_is_its_own_fault_filter_before_the_router() -> None:
    """One envoy.filters.http.fault per http[] entry, in order, inserted before the router."""
    result = compiled(
        "          - abort: {httpStatus: 503, percentage: 20}\n"
        "          - delay: {value: 1500ms, percentage: 50}\n"
        "          - responseBandwidth: {limit: 100kbps, percentage: 10}"
    )
    filters = http_filters(result)
    assert [f["name"] for f in filters] == [
        "envoy.filters.http.fault",
        "envoy.filters.http.fault",
        "envoy.filters.http.fault",
        "envoy.filters.http.router",
    ]
    abort, delay, bandwidth = (f["typed_config"] for f in filters[:3])
    assert abort["abort"] == {"http_status": 503, "percentage": {"numerator": 20}}
    assert delay["delay"] == {"fixed_delay": "1.500s", "percentage": {"numerator": 50}}
    assert bandwidth["response_rate_limit"] == {
        "fixed_limit": {"limit_kbps": "100"},
        "percentage": {"numerator": 10},
    }
    assert "headers" not in abort  # from kind Mesh: every caller, no x-kuma-tags match


@pytest.mark.parametrize(
    ("value", "numerator", "denominator"),
    [(20, 20, 0), ("20", 20, 0), ("20.5", 2050, 1), ("0.125", 1250, 2), ("33.3333", 333333, 2)],
)
def test_percentages_use_the_smallest_exact_denominator(
    value: object, numerator: int, denominator: int
) -> None:
    """ConvertPercentage: integer -> HUNDRED, two decimals -> TEN_THOUSAND, else MILLION."""
    got = fractional_percent(value)
    assert (got.numerator, got.denominator) == (numerator, denominator)


@pytest.mark.parametrize(
    ("limit", "kbps"), [("100kbps", 100), ("1Mbps", 1000), ("2Gbps", 2_000_000)]
)
def test_bandwidth_units_convert_to_kbps(limit: str, kbps: int) -> None:
    """ConvertBandwidthToKbps: kbps x1, Mbps x1000, Gbps x1000000."""
    assert bandwidth_kbps(limit) == kbps


def test_bad_bandwidth_is_a_clear_error() -> None:
    with pytest.raises(CompileError, match="kbps/Mbps/Gbps"):
        bandwidth_kbps("fast")


def test_tcp_inbounds_get_no_fault_filter() -> None:
    """Fault injection is HTTP only: a TCP inbound keeps its plain tcp_proxy."""
    result = compiled("          - abort: {httpStatus: 503, percentage: 20}", protocol="tcp")
    listener = named(result.configs["default.api-1"], TypeUrl.LISTENER, "inbound:127.0.0.3:8080")
    (network,) = listener["filter_chains"][0]["filters"]
    assert network["name"] == "envoy.filters.network.tcp_proxy"


WEB_REGEX = ".*&kuma.io/service=[^&]*web[,&].*"


def test_from_a_mesh_service_matches_the_callers_x_kuma_tags() -> None:
    """Kuma's legacy from[] path (meshfaultinjection ``plugin.go`` ``configure``, rules from
    ``core/rules/rules.go`` ``BuildRules`` with negations): entries [Mesh: 503/20,
    MeshService web: 500/100] give the rules [{service=web}: merge -> 500/100,
    {service!=web}: 503/20], most positive tags first; ``legacy_configurer.go``
    ``createHeaders`` puts a ``x-kuma-tags`` regex (``tags.MatchingRegex``) on each fault,
    inverted for the negated subset."""
    policy = """
type: MeshFaultInjection
name: chaos
mesh: default
spec:
  targetRef: {kind: MeshService, name: api}
  from:
    - targetRef: {kind: Mesh}
      default:
        http:
          - abort: {httpStatus: 503, percentage: 20}
    - targetRef: {kind: MeshService, name: web}
      default:
        http:
          - abort: {httpStatus: 500, percentage: 100}
"""
    result = compile_yaml(BARE_MESH, dataplane("api-1", "127.0.0.3", "api"), policy)
    filters = http_filters(result)
    assert [f["name"] for f in filters] == [FAULT, FAULT, "envoy.filters.http.router"]
    web, others = (f["typed_config"] for f in filters[:2])
    assert web["abort"] == {"http_status": 500, "percentage": {"numerator": 100}}
    assert web["headers"] == [
        {"name": "x-kuma-tags", "string_match": {"safe_regex": {"regex": WEB_REGEX}}}
    ]
    assert others["abort"] == {"http_status": 503, "percentage": {"numerator": 20}}
    assert others["headers"] == [
        {
            "name": "x-kuma-tags",
            "string_match": {"safe_regex": {"regex": WEB_REGEX}},
            "invert_match": True,
        }
    ]
    assert not result.configs["default.api-1"].notes


def test_mesh_subset_tags_escape_dots_and_sort_keys() -> None:
    """``tags.MatchingRegex``: keys sorted, ``[^&]*value[,&]`` per key with dots escaped."""
    result = compiled(
        "          - abort: {httpStatus: 418, percentage: 100}",
        from_ref="{kind: MeshSubset, tags: {zone: eu.west, team: a}}",
    )
    (fault,) = (f["typed_config"] for f in http_filters(result)[:-1])
    # only the positive rule: the negated combinations match no entry (no Mesh entry)
    assert fault["headers"] == [
        {
            "name": "x-kuma-tags",
            "string_match": {
                "safe_regex": {"regex": ".*&team=[^&]*a[,&].*&zone=[^&]*eu\\.west[,&].*"}
            },
        }
    ]


def test_clients_send_x_kuma_tags_only_in_a_mesh_with_a_fault_injection() -> None:
    """meshhttproute ``generateFromService``: ``dpTags`` when ``IsXKumaTagsUsed`` (a
    MeshFaultInjection exists in the mesh); ``TagsHeaderConfigurer`` adds
    ``x-kuma-tags: tags.Serialize(dataplane.TagSet())`` to the outbound route config."""
    web = dataplane("web-1", "127.0.0.2", "web", tags={"version": "v1"}, outbounds=[("api", 10001)])
    api = dataplane("api-1", "127.0.0.3", "api")
    plain = compile_yaml(BARE_MESH, web, api).configs["default.web-1"]
    rc = named(plain, TypeUrl.ROUTE, "outbound:api")
    assert "request_headers_to_add" not in rc
    with_fault = compile_yaml(
        BARE_MESH,
        web,
        api,
        """
type: MeshFaultInjection
name: chaos
mesh: default
spec:
  targetRef: {kind: MeshService, name: other}
  from:
    - targetRef: {kind: Mesh}
      default:
        http: [{abort: {httpStatus: 500, percentage: 1}}]
""",
    ).configs["default.web-1"]
    rc = named(with_fault, TypeUrl.ROUTE, "outbound:api")
    assert rc["request_headers_to_add"] == [
        {
            "header": {
                "key": "x-kuma-tags",
                "value": "&kuma.io/protocol=http&&kuma.io/service=web&&version=v1&",
            }
        }
    ]


def test_rules_in_a_selecting_policy_make_kuma_ignore_from_entries() -> None:
    """meshfaultinjection ``applyToInbounds``: with ``InboundRules`` (some policy has
    ``rules[]``) the legacy ``from[]`` rules are not used."""
    result = compile_yaml(
        BARE_MESH,
        dataplane("api-1", "127.0.0.3", "api"),
        """
type: MeshFaultInjection
name: by-from
mesh: default
spec:
  targetRef: {kind: Mesh, proxyTypes: [Sidecar]}
  from:
    - targetRef: {kind: MeshService, name: web}
      default:
        http: [{abort: {httpStatus: 500, percentage: 100}}]
""",
        """
type: MeshFaultInjection
name: by-rules
mesh: default
spec:
  targetRef: {kind: Mesh}
  rules:
    - default:
        http: [{abort: {httpStatus: 503, percentage: 50}}]
""",
    )
    (only,) = http_filters(result)[:-1]
    assert only["name"] == "kri_mfi_default___by-rules_"
    wrapped = only["typed_config"]
    assert wrapped["extension_config"]["typed_config"]["abort"]["http_status"] == 503
    assert any("uses rules[]" in n for n in result.configs["default.api-1"].notes)


def test_rules_with_a_spiffe_match_skip_the_fault_for_other_peers() -> None:
    """meshfaultinjection ``Configurer.addFaultFilters`` + Kuma's matchers builder: rules
    sorted by ``CompareMatch`` (the spiffeID rule first), each fault a filter named by the
    policy's KRI, an ``ExtensionWithMatcher`` whose matcher skips it (``SkipFilter``) when
    the URI SAN does not match (``NotMatches``); the rule without match has an empty
    matcher: the fault always runs. Each rule keeps its own default (not merged)."""
    policy = """
type: MeshFaultInjection
name: chaos
mesh: default
spec:
  targetRef: {kind: MeshService, name: api}
  rules:
    - default:
        http: [{abort: {httpStatus: 503, percentage: 50}}]
    - matches:
        - spiffeID: {type: Exact, value: "spiffe://default/web"}
      default:
        http: [{abort: {httpStatus: 500, percentage: 100}}]
"""
    result = compile_yaml(BARE_MESH, dataplane("api-1", "127.0.0.3", "api"), policy)
    filters = http_filters(result)
    assert [f["name"] for f in filters] == [
        "kri_mfi_default___chaos_",
        "kri_mfi_default___chaos_",
        "envoy.filters.http.router",
    ]
    web, everyone = (f["typed_config"] for f in filters[:2])
    assert web["@type"].endswith("envoy.extensions.common.matching.v3.ExtensionWithMatcher")
    assert web["xds_matcher"] == {
        "matcher_list": {
            "matchers": [
                {
                    "predicate": {
                        "not_matcher": {
                            "single_predicate": {
                                "input": {
                                    "name": "envoy.matching.inputs.uri_san",
                                    "typed_config": {
                                        "@type": "type.googleapis.com/envoy.extensions.matching.common_inputs.ssl.v3.UriSanInput"
                                    },
                                },
                                "value_match": {"exact": "spiffe://default/web"},
                            }
                        }
                    },
                    "on_match": {
                        "action": {
                            "name": "skip",
                            "typed_config": {
                                "@type": "type.googleapis.com/envoy.extensions.filters.common.matcher.action.v3.SkipFilter"
                            },
                        }
                    },
                }
            ]
        }
    }
    assert web["extension_config"]["name"] == FAULT
    assert web["extension_config"]["typed_config"]["abort"]["http_status"] == 500
    assert "xds_matcher" not in everyone or everyone["xds_matcher"] == {}
    assert everyone["extension_config"]["typed_config"]["abort"]["http_status"] == 503


def test_a_legacy_fault_injection_also_makes_clients_send_x_kuma_tags() -> None:
    """``IsXKumaTagsUsed`` counts the legacy RateLimit and FaultInjection kinds too (accepted,
    not applied by the reconciler, but Kuma still turns the header on)."""
    legacy = """
type: FaultInjection
mesh: default
name: fi1
sources:
  - match: {kuma.io/service: web}
destinations:
  - match: {kuma.io/service: api, kuma.io/protocol: http}
conf:
  abort: {httpStatus: 500, percentage: 50}
"""
    web = dataplane("web-1", "127.0.0.2", "web", outbounds=[("api", 10001)])
    config = compile_yaml(BARE_MESH, web, dataplane("api-1", "127.0.0.3", "api"), legacy)
    rc = named(config.configs["default.web-1"], TypeUrl.ROUTE, "outbound:api")
    assert rc["request_headers_to_add"][0]["header"]["key"] == "x-kuma-tags"


def test_the_first_fault_injection_recompiles_every_client() -> None:
    """Adding the mesh's first MeshFaultInjection changes the route configs of proxies it
    does not select (they start sending x-kuma-tags): the incremental compile must rebuild
    them, so its output equals a full compile; removing it again turns the header off."""
    docs = (BARE_MESH, dataplane("web-1", "127.0.0.2", "web", outbounds=[("api", 10001)]))
    api = dataplane("api-1", "127.0.0.3", "api")
    fault = """
type: MeshFaultInjection
name: chaos
mesh: default
spec:
  targetRef: {kind: MeshService, name: api}
  from:
    - targetRef: {kind: Mesh}
      default:
        http: [{abort: {httpStatus: 500, percentage: 1}}]
"""
    compiler = Compiler()
    compiler.compile(load_resources(*docs, api))
    for step in ((*docs, api, fault), (*docs, api)):
        resources = load_resources(*step)
        incremental = compiler.compile(resources).configs["default.web-1"]
        full = compile_resources(resources).configs["default.web-1"]
        assert named(incremental, TypeUrl.ROUTE, "outbound:api") == named(
            full, TypeUrl.ROUTE, "outbound:api"
        )
