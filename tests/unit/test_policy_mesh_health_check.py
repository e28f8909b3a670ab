"""MeshHealthCheck: each test names the Kuma 2.14 behaviour it reproduces
(``pkg/plugins/policies/meshhealthcheck/plugin/xds/configurer.go``)."""

from __future__ import annotations

from typing import Any

import pytest
from test_compile_core import MESH, compile_yaml, dataplane, named

from reconciler.resource_types import TypeUrl

BARE_MESH = MESH + "skipCreatingInitialPolicies: ['*']\n"
WEB_TAGS = {
    "header": {"key": "x-kuma-tags", "value": "&kuma.io/protocol=http&&kuma.io/service=web&"}
}


def checks(default: str, protocol: str = "http") -> list[dict[str, Any]]:
    """Health checks of web-1's cluster for ``api`` (served over ``protocol``)."""
    policy = f"""
type: MeshHealthCheck
name: hc
mesh: default
spec:
  targetRef: {{kind: Mesh}}
  to:
    - targetRef: {{kind: MeshService, name: api}}
      default:
{default}
"""
    result = compile_yaml(
        BARE_MESH,
        dataplane("web-1", "127.0.0.2", "web", outbounds=[("api", 10001)]),
        dataplane("api-1", "127.0.0.3", "api", protocol=protocol),
        policy,
    )
    found = named(result.configs["default.web-1"], TypeUrl.CLUSTER, "api")
    return list(found.get("health_checks", []))


def test_unset_values_take_kuma_defaults() -> None:
    """Kuma defaults: interval 1m, timeout 15s, unhealthy 5, healthy 1, HTTP path /."""
    (check,) = checks("        http: {}")
    assert check == {
        "interval": "60s",
        "timeout": "15s",
        "unhealthy_threshold": 5,
        "healthy_threshold": 1,
        "http_health_check": {"path": "/", "request_headers_to_add": [WEB_TAGS]},
    }


@pytest.mark.parametrize(
    ("protocol", "expected"),
    [
        ("http", "http_health_check"),
        ("http2", "http_health_check"),
        ("grpc", "grpc_health_check"),
        ("tcp", "tcp_health_check"),
    ],
)
def test_checker_follows_the_service_protocol(protocol: str, expected: str) -> None:
    """selectHealthCheckType: the configured checker matching the upstream's protocol."""
    (check,) = checks("        http: {}\n        grpc: {}\n        tcp: {}", protocol)
    assert expected in check
    assert len([k for k in check if k.endswith("_health_check")]) == 1


def test_http2_services_use_the_http2_codec() -> None:
    """httpHealthCheck: codec_client_type HTTP2 for http2 services (HTTP1, the default, else)."""
    (check,) = checks("        http: {path: /h}", "http2")
    assert check["http_health_check"]["codec_client_type"] == "HTTP2"


def test_disabled_http_falls_back_to_tcp() -> None:
    """An http service whose http check is disabled uses tcp when tcp is configured."""
    (check,) = checks("        http: {disabled: true}\n        tcp: {}")
    assert check["tcp_health_check"] == {}


def test_no_matching_checker_means_no_health_check() -> None:
    """Only a tcp check for an http service (http not disabled): nothing (Kuma HCNone)."""
    assert checks("        tcp: {}") == []
    assert checks("        http: {disabled: true}") == []


def test_tcp_payloads_are_hex_encoded_text() -> None:
    """Kuma hex-encodes the bytes of send/receive as written (Envoy's text payloads)."""
    (check,) = checks("        tcp: {send: PING, receive: [PONG, OK]}", "tcp")
    assert check["tcp_health_check"] == {
        "send": {"text": "50494e47"},
        "receive": [{"text": "504f4e47"}, {"text": "4f4b"}],
    }


def test_expected_statuses_become_half_open_ranges() -> None:
    """mapUInt32ToInt64Range: status s -> [s, s+1)."""
    (check,) = checks("        http: {expectedStatuses: [200, 204]}")
    assert check["http_health_check"]["expected_statuses"] == [
        {"start": "200", "end": "201"},
        {"start": "204", "end": "205"},
    ]


def test_headers_add_split_on_commas_then_set_overwrites() -> None:
    """mapHttpHeaders: add entries (one header per comma-separated value), then set ones."""
    default = (
        "        http:\n"
        "          requestHeadersToAdd:\n"
        "            add: [{name: x-a, value: '1,2'}]\n"
        "            set: [{name: x-s, value: v}]"
    )
    (check,) = checks(default)
    assert check["http_health_check"]["request_headers_to_add"] == [
        WEB_TAGS,
        {"header": {"key": "x-a", "value": "1"}},
        {"header": {"key": "x-a", "value": "2"}},
        {"header": {"key": "x-s", "value": "v"}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"},
    ]


def test_event_log_path_becomes_a_file_event_sink() -> None:
    """eventLogPath -> event_logger envoy.health_check.event_sinks.file."""
    (check,) = checks("        eventLogPath: /tmp/hc.log\n        http: {}")
    (sink,) = check["event_logger"]
    assert sink["name"] == "envoy.health_check.event_sinks.file"
    assert sink["typed_config"]["event_log_path"] == "/tmp/hc.log"


def test_grpc_service_name_and_authority() -> None:
    """grpcHealthCheck: service_name and authority as given."""
    (check,) = checks("        grpc: {serviceName: s.Health, authority: a.mesh}", "grpc")
    assert check["grpc_health_check"] == {"service_name": "s.Health", "authority": "a.mesh"}


def test_panic_settings_apply_even_when_no_checker_matches() -> None:
    """healthyPanicThreshold and failTrafficOnPanic apply before the checker is chosen: a
    tcp-only check on an http service adds no health check but still sets them."""
    policy = """
type: MeshHealthCheck
name: hc
mesh: default
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: Mesh}
      default:
        healthyPanicThreshold: "62.5"
        failTrafficOnPanic: true
        tcp: {}
"""
    result = compile_yaml(
        BARE_MESH,
        dataplane("web-1", "127.0.0.2", "web", outbounds=[("api", 10001)]),
        dataplane("api-1", "127.0.0.3", "api"),
        policy,
    )
    found = named(result.configs["default.web-1"], TypeUrl.CLUSTER, "api")
    assert "health_checks" not in found
    assert found["common_lb_config"] == {
        "healthy_panic_threshold": {"value": 62.5},
        "zone_aware_lb_config": {"fail_traffic_on_panic": True},
    }


def test_http_checks_name_the_caller_and_clusters_are_shared_by_equal_tags() -> None:
    """Kuma sends x-kuma-tags (the caller's tag set, every inbound, ``tags.Serialize``) with
    HTTP checks; the cluster is shared only by callers with the same tags."""
    policy = """
type: MeshHealthCheck
name: hc
mesh: default
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: api}
      default:
        http: {path: /health}
"""
    result = compile_yaml(
        BARE_MESH,
        dataplane("web-1", "127.0.0.2", "web", outbounds=[("api", 10001)], tags={"version": "v1"}),
        dataplane("web-2", "127.0.0.4", "web", outbounds=[("api", 10001)], tags={"version": "v1"}),
        dataplane("admin-1", "127.0.0.5", "admin", outbounds=[("api", 10001)]),
        dataplane("api-1", "127.0.0.3", "api"),
        policy,
    )
    clusters = {
        node: result.configs[node].by_name()[TypeUrl.CLUSTER]["api"]
        for node in ("default.web-1", "default.web-2", "default.admin-1")
    }
    assert clusters["default.web-1"] is clusters["default.web-2"]
    assert clusters["default.admin-1"] is not clusters["default.web-1"]
    (check,) = named(result.configs["default.web-1"], TypeUrl.CLUSTER, "api")["health_checks"]
    assert check["http_health_check"]["request_headers_to_add"] == [
        {
            "header": {
                "key": "x-kuma-tags",
                "value": "&kuma.io/protocol=http&&kuma.io/service=web&&version=v1&",
            }
        }
    ]


def test_tcp_checks_send_no_tags() -> None:
    """Only HTTP checks carry x-kuma-tags."""
    (check,) = checks("        tcp: {}", "tcp")
    assert check["tcp_health_check"] == {}
