"""MeshCircuitBreaker: each test names the Kuma 2.14 behaviour it reproduces
(``pkg/plugins/policies/meshcircuitbreaker/plugin/xds/configurer.go``)."""

from __future__ import annotations

from typing import Any

import pytest
from test_compile_core import MESH, compile_yaml, dataplane, named

from reconciler.compile.compiler import CompileResult
from reconciler.resource_types import TypeUrl

BARE_MESH = MESH + "skipCreatingInitialPolicies: ['*']\n"


def docs(mesh: str, *policies: str) -> tuple[str, ...]:
    return (
        mesh,
        dataplane("web-1", "127.0.0.2", "web", outbounds=[("api", 10001), ("db", 10002)]),
        dataplane("api-1", "127.0.0.3", "api"),
        dataplane("db-1", "127.0.0.4", "db", port=5432, protocol="tcp"),
        *policies,
    )


def breaker(default: str, to: str = "{kind: MeshService, name: api}", name: str = "cb") -> str:
    return f"""
type: MeshCircuitBreaker
name: {name}
mesh: default
spec:
  targetRef: {{kind: Mesh}}
  to:
    - targetRef: {to}
      default:
{default}
"""


def cluster(result: CompileResult, name: str, node: str = "default.web-1") -> dict[str, Any]:
    return named(result.configs[node], TypeUrl.CLUSTER, name)


def test_initial_default_policy_sets_connection_limits_on_every_outbound() -> None:
    """Kuma's mesh-circuit-breaker-all-<mesh>: 1024 connections/pending/requests, 3 retries."""
    result = compile_yaml(*docs(MESH))
    for name in ("api", "db"):
        assert cluster(result, name)["circuit_breakers"] == {
            "thresholds": [
                {
                    "max_connections": 1024,
                    "max_pending_requests": 1024,
                    "max_requests": 1024,
                    "max_retries": 3,
                    "track_remaining": True,
                }
            ]
        }
    assert "outlier_detection" not in cluster(result, "api")


def test_connection_limits_merge_field_by_field_over_the_default() -> None:
    """RFC 7396 merge: a more specific policy overrides only the limits it sets."""
    policy = breaker("        connectionLimits: {maxConnections: 2, maxConnectionPools: 8}")
    threshold = cluster(compile_yaml(*docs(MESH, policy)), "api")["circuit_breakers"]
    assert threshold["thresholds"] == [
        {
            "max_connection_pools": 8,
            "max_connections": 2,
            "max_pending_requests": 1024,
            "max_requests": 1024,
            "max_retries": 3,
            "track_remaining": True,
        }
    ]


def test_unconfigured_detectors_are_not_enforced() -> None:
    """Kuma sets enforcing_* to 0 for detectors it is not given (Envoy enforces by default)."""
    policy = breaker(
        "        outlierDetection:\n"
        "          interval: 5s\n"
        "          baseEjectionTime: 30s\n"
        "          maxEjectionPercent: 50\n"
        "          detectors:\n"
        "            totalFailures: {consecutive: 5}"
    )
    od = cluster(compile_yaml(*docs(BARE_MESH, policy)), "api")["outlier_detection"]
    assert od == {
        "interval": "5s",
        "base_ejection_time": "30s",
        "max_ejection_percent": 50,
        "consecutive_5xx": 5,
        "enforcing_consecutive_5xx": 100,
        "enforcing_consecutive_gateway_failure": 0,
        "enforcing_consecutive_local_origin_failure": 0,
        "enforcing_success_rate": 0,
        "enforcing_local_origin_success_rate": 0,
        "enforcing_failure_percentage": 0,
        "enforcing_failure_percentage_local_origin": 0,
    }


def test_every_detector_maps_to_its_envoy_fields() -> None:
    """gatewayFailures/localOriginFailures/successRate/failurePercentage, stdev factor x1000."""
    policy = breaker(
        "        outlierDetection:\n"
        "          splitExternalAndLocalErrors: true\n"
        "          detectors:\n"
        "            gatewayFailures: {consecutive: 3}\n"
        "            localOriginFailures: {consecutive: 4}\n"
        "            successRate: {minimumHosts: 5, requestVolume: 50, standardDeviationFactor: '1.9'}\n"
        "            failurePercentage: {minimumHosts: 3, requestVolume: 20, threshold: 85}"
    )
    od = cluster(compile_yaml(*docs(BARE_MESH, policy)), "api")["outlier_detection"]
    assert od["split_external_local_origin_errors"] is True
    assert od["consecutive_gateway_failure"] == 3
    assert od["consecutive_local_origin_failure"] == 4
    assert od["enforcing_consecutive_5xx"] == 0
    assert od["success_rate_stdev_factor"] == 1900
    assert (od["success_rate_minimum_hosts"], od["success_rate_request_volume"]) == (5, 50)
    assert od["failure_percentage_threshold"] == 85
    assert od["enforcing_success_rate"] == od["enforcing_failure_percentage"] == 100


def test_outlier_detection_disabled_removes_outlier_detection() -> None:
    """MeshCircuitBreaker outlierDetection.disabled removes outlier_detection, as Kuma's
    configurer does (even when detectors are configured)."""
    policy = breaker(
        "        outlierDetection:\n"
        "          disabled: true\n"
        "          detectors: {totalFailures: {consecutive: 1}}"
    )
    assert "outlier_detection" not in cluster(compile_yaml(*docs(BARE_MESH, policy)), "api")


@pytest.mark.parametrize(("value", "expected"), [(30, 30.0), ("30.5", 30.5)])
def test_healthy_panic_threshold_goes_to_common_lb_config(value: object, expected: float) -> None:
    """outlierDetection.healthyPanicThreshold (int or decimal string) -> healthy_panic_threshold."""
    policy = breaker(
        "        outlierDetection:\n"
        f"          healthyPanicThreshold: {value!r}\n"
        "          detectors: {totalFailures: {consecutive: 5}}"
    )
    got = cluster(compile_yaml(*docs(BARE_MESH, policy)), "api")["common_lb_config"]
    assert got == {"healthy_panic_threshold": {"value": expected}}


def test_mesh_to_entry_applies_to_tcp_services_too() -> None:
    """A to[] entry with kind Mesh applies to every outbound cluster, whatever its protocol."""
    policy = breaker("        connectionLimits: {maxConnections: 7}", to="{kind: Mesh}")
    result = compile_yaml(*docs(BARE_MESH, policy))
    assert cluster(result, "db")["circuit_breakers"]["thresholds"] == [
        {"max_connections": 7, "track_remaining": True}
    ]


def test_from_entries_configure_the_inbound_local_cluster() -> None:
    """from[] (kind Mesh) limits the local application cluster of the selected inbound."""
    policy = """
type: MeshCircuitBreaker
name: inbound-limits
mesh: default
spec:
  targetRef: {kind: MeshService, name: api}
  from:
    - targetRef: {kind: Mesh}
      default:
        connectionLimits: {maxConnections: 100}
"""
    result = compile_yaml(*docs(BARE_MESH, policy))
    local = cluster(result, "localhost:18080", node="default.api-1")
    assert local["circuit_breakers"]["thresholds"] == [
        {"max_connections": 100, "track_remaining": True}
    ]
    # other inbounds keep only Kuma's track_remaining threshold (applyTrackRemaining)
    assert cluster(result, "localhost:18080")["circuit_breakers"] == {
        "thresholds": [{"track_remaining": True}]
    }
