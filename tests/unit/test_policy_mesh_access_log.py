"""MeshAccessLog: each test names the Kuma 2.14 behaviour it reproduces
(``pkg/plugins/policies/meshaccesslog/plugin``: ``configurer.go`` formats and placeholders,
``plugin.go`` Kuma values per direction)."""

from __future__ import annotations

from typing import Any

import pytest
from test_compile_core import MESH, compile_yaml, dataplane, hcm_of, named

from reconciler.compile.compiler import CompileResult
from reconciler.errors import CompileError
from reconciler.kinds.mesh_access_log.plugin import socket_path
from reconciler.kinds.mesh_access_log.plugin.formats import (
    DEFAULT_HTTP_FORMAT,
    DEFAULT_TCP_FORMAT,
    KumaValues,
)
from reconciler.resource_types import TypeUrl

BARE_MESH = MESH + "skipCreatingInitialPolicies: ['*']\n"


def access_log(section: str, backends: str, target: str = "{kind: Mesh}") -> str:
    return f"""
type: MeshAccessLog
name: logs-{section}
mesh: default
spec:
  targetRef: {target}
  {section}:
    - targetRef: {{kind: Mesh}}
      default:
        backends:
{backends}
"""


def compiled(*policies: str) -> CompileResult:
    return compile_yaml(
        BARE_MESH,
        dataplane("web-1", "127.0.0.2", "web", outbounds=[("api", 10001), ("db", 10002)]),
        dataplane("web-2", "127.0.0.5", "web", outbounds=[("api", 10001)]),
        dataplane("api-1", "127.0.0.3", "api"),
        dataplane("db-1", "127.0.0.4", "db", port=5432, protocol="tcp"),
        *policies,
    )


def logs(result: CompileResult, node: str, listener: str) -> list[dict[str, Any]]:
    found = named(result.configs[node], TypeUrl.LISTENER, listener)
    network = found["filter_chains"][0]["filters"][-1]["typed_config"]
    return [entry["typed_config"] for entry in network.get("access_log", [])]


FILE_STDOUT = "          - type: File\n            file: {path: /dev/stdout}"


def test_default_formats_per_protocol_with_placeholders_substituted() -> None:
    """No format: Kuma's default HTTP line on an HCM, its network line on a tcp_proxy, both
    with a newline and the Kuma placeholders replaced for this proxy and destination."""
    result = compiled(access_log("to", FILE_STDOUT))
    (http,) = logs(result, "default.web-1", "outbound:127.0.0.1:10001")
    line = http["log_format"]["text_format_source"]["inline_string"]
    assert line.endswith('"web" "api" "127.0.0.2" "%UPSTREAM_HOST%"\n')
    assert line.startswith('[%START_TIME%] default "%REQ(:METHOD)%')
    (tcp,) = logs(result, "default.web-1", "outbound:127.0.0.1:10002")
    assert tcp["log_format"]["text_format_source"]["inline_string"] == (
        "[%START_TIME%] %RESPONSE_FLAGS% default 127.0.0.2(web)->%UPSTREAM_HOST%(db) took "
        "%DURATION%ms, sent %BYTES_SENT% bytes, received: %BYTES_RECEIVED% bytes\n"
    )
    assert tcp["path"] == "/dev/stdout"


def test_every_kuma_placeholder() -> None:
    """Kuma's InterpolateKumaValues: %KUMA_MESH%, SOURCE/DESTINATION_SERVICE, SOURCE_ADDRESS
    (net.JoinHostPort(ip, "0")), SOURCE_ADDRESS_WITHOUT_PORT, TRAFFIC_DIRECTION, ZONE,
    WORKLOAD; Envoy operators are left alone."""
    values = KumaValues("m", "src", "10.0.0.1", "dst", "OUTBOUND", "dp", "z1", "kri_wl_m_z1__w_")
    text = (
        "%KUMA_MESH% %KUMA_SOURCE_SERVICE% %KUMA_DESTINATION_SERVICE% %KUMA_SOURCE_ADDRESS% "
        "%KUMA_SOURCE_ADDRESS_WITHOUT_PORT% %KUMA_TRAFFIC_DIRECTION% %KUMA_ZONE% "
        "%KUMA_WORKLOAD% %START_TIME%"
    )
    assert values.substitute(text) == (
        "m src dst 10.0.0.1:0 10.0.0.1 OUTBOUND z1 kri_wl_m_z1__w_ %START_TIME%"
    )
    ipv6 = KumaValues("m", "s", "fd00::1", "d", "INBOUND", "dp")
    assert ipv6.substitute("%KUMA_SOURCE_ADDRESS%") == "[fd00::1]:0"
    assert ipv6.substitute("[%KUMA_ZONE%][%KUMA_WORKLOAD%]") == "[][]"


def test_unknown_kuma_placeholder_is_a_compile_error() -> None:
    """Envoy rejects unknown command operators, so a leftover %KUMA_*% is refused here."""
    with pytest.raises(CompileError, match="unknown placeholder %KUMA_REGION%"):
        KumaValues("m", "s", "a", "d", "INBOUND", "dp").substitute("%KUMA_REGION%")


def listener_object(result: CompileResult, node: str) -> object:
    return result.configs[node].by_name()[TypeUrl.LISTENER]["outbound:127.0.0.1:10001"]


def test_outbound_logs_naming_the_proxy_address_are_not_shared() -> None:
    """The default format has %KUMA_SOURCE_ADDRESS_WITHOUT_PORT%: web-1 and web-2 (same
    service, different addresses) each get their own listener."""
    result = compiled(access_log("to", FILE_STDOUT))
    one = named(result.configs["default.web-1"], TypeUrl.LISTENER, "outbound:127.0.0.1:10001")
    two = named(result.configs["default.web-2"], TypeUrl.LISTENER, "outbound:127.0.0.1:10001")
    assert one != two
    assert '"127.0.0.5"' in str(two)


def test_outbound_logs_naming_only_the_service_are_shared_by_its_proxies() -> None:
    """A format using only %KUMA_SOURCE_SERVICE%: proxies of one service share the listener."""
    backends = (
        "          - type: File\n"
        "            file:\n"
        "              path: /dev/stdout\n"
        "              format: {type: Plain, plain: '%KUMA_SOURCE_SERVICE% %RESPONSE_CODE%'}"
    )
    result = compiled(access_log("to", backends))
    assert listener_object(result, "default.web-1") is listener_object(result, "default.web-2")


def test_json_format_fields_and_omit_empty_values() -> None:
    """Json: one string field per entry (placeholders substituted), omitEmptyValues kept."""
    backends = (
        "          - type: File\n"
        "            file:\n"
        "              path: /tmp/a.log\n"
        "              format:\n"
        "                type: Json\n"
        "                omitEmptyValues: true\n"
        "                json:\n"
        "                  - {key: src, value: '%KUMA_SOURCE_SERVICE%'}\n"
        "                  - {key: code, value: '%RESPONSE_CODE%'}"
    )
    (entry,) = logs(
        compiled(access_log("to", backends)), "default.web-1", "outbound:127.0.0.1:10001"
    )
    assert entry["log_format"] == {
        "json_format": {"src": "web", "code": "%RESPONSE_CODE%"},
        "omit_empty_values": True,
    }


def test_inbound_values_use_unknown_source_and_the_proxy_service() -> None:
    """from[]: source 'unknown', address = the proxy's, destination = its identifying service."""
    backends = (
        "          - type: File\n"
        "            file:\n"
        "              path: /dev/stdout\n"
        "              format: {type: Plain, plain: '%KUMA_SOURCE_SERVICE% %KUMA_DESTINATION_SERVICE% "
        "%KUMA_SOURCE_ADDRESS_WITHOUT_PORT% %KUMA_TRAFFIC_DIRECTION%'}"
    )
    result = compiled(access_log("from", backends))
    (entry,) = logs(result, "default.api-1", "inbound:127.0.0.3:8080")
    assert entry["log_format"]["text_format_source"]["inline_string"] == (
        "unknown api 127.0.0.3 INBOUND\n"
    )


def test_tcp_backend_writes_json_to_kumas_socket_path() -> None:
    """Tcp: file logger on /tmp/kuma-al-<dataplane>-<mesh>.sock, JSON {address, message}."""
    backends = "          - type: Tcp\n            tcp: {address: '127.0.0.1:5170'}"
    result = compiled(access_log("to", backends))
    (entry,) = logs(result, "default.web-1", "outbound:127.0.0.1:10002")
    assert entry["path"] == "/tmp/kuma-al-web-1-default.sock"
    fmt = entry["log_format"]["json_format"]
    assert fmt["address"] == "127.0.0.1:5170"
    assert (
        fmt["message"]
        == DEFAULT_TCP_FORMAT.replace("%KUMA_MESH%", "default")
        .replace("%KUMA_SOURCE_ADDRESS_WITHOUT_PORT%", "127.0.0.2")
        .replace("%KUMA_SOURCE_SERVICE%", "web")
        .replace("%KUMA_DESTINATION_SERVICE%", "db")
        + "\n"
    )
    assert not [d for d in result.diagnostics if d.code == "RC502"]


def test_tcp_socket_path_is_cut_like_kumas() -> None:
    """AccessLogSocketName: the path before ``.sock`` is cut to 100 characters."""
    long_name = "d" * 120
    assert socket_path(long_name, "m") == ("/tmp/kuma-al-" + long_name)[:100] + ".sock"


def test_default_http_format_is_kumas() -> None:
    """The exact default of Kuma's configurer (defaultHttpAccessLogFormat)."""
    assert DEFAULT_HTTP_FORMAT.count("%KUMA_") == 4
    assert '"%REQ(X-B3-TRACEID?X-DATADOG-TRACEID)%"' in DEFAULT_HTTP_FORMAT


def test_hcm_access_log_sits_on_the_http_connection_manager() -> None:
    """HTTP listeners: access_log on the HCM (not the listener)."""
    result = compiled(access_log("to", FILE_STDOUT))
    found = named(result.configs["default.web-1"], TypeUrl.LISTENER, "outbound:127.0.0.1:10001")
    assert "access_log" in hcm_of(found)
    assert "access_log" not in found
