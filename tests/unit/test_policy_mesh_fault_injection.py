"""MeshFaultInjection: each test names the Kuma 2.14 behaviour it reproduces
(``pkg/plugins/policies/meshfaultinjection/plugin/xds/configurer.go``, Kuma's
``ConvertPercentage`` and ``ConvertBandwidthToKbps``)."""

from __future__ import annotations

from typing import Any

import pytest
from test_compile_core import MESH, compile_yaml, dataplane, hcm_of, named

from reconciler.compile.compiler import CompileResult
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


def test_peer_selecting_from_entry_is_skipped_with_a_note() -> None:
    """from[] naming a peer needs the caller's mTLS identity: skipped, and said so."""
    result = compiled(
        "          - abort: {httpStatus: 503, percentage: 20}",
        from_ref="{kind: MeshService, name: web}",
    )
    assert [f["name"] for f in http_filters(result)] == ["envoy.filters.http.router"]
    assert any("from[0].targetRef" in n for n in result.configs["default.api-1"].notes)
