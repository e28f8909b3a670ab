"""MeshAccessLog OpenTelemetry backend: each test names the Kuma 2.14 behaviour it reproduces
(``meshaccesslog/plugin/xds/configurer.go``: ``BaseAccessLogBuilder``, ``OtelBody``,
``OtelAttributes``, ``OtelResourceAttributes``, ``EndpointAccumulator``; ``clusters.go``
``AddLogBackendConf``; ``policies/core/xds/otel.go`` ``ParseOtelEndpoint``)."""

from __future__ import annotations

from typing import Any

from test_compile_core import MESH, compile_yaml, dataplane, load_resources, named
from test_policy_mesh_access_log import access_log, logs

from reconciler.compile.compiler import Compiler, CompileResult
from reconciler.compile.otel_backend import parse_endpoint
from reconciler.kinds.mesh_access_log.plugin.formats import DEFAULT_HTTP_FORMAT
from reconciler.resource_types import TypeUrl

BARE_MESH = MESH + "skipCreatingInitialPolicies: ['*']\n"
HTTP2_OPTIONS = {
    "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        "explicit_http_config": {"http2_protocol_options": {}},
    }
}


def otel(block: str) -> str:
    return f"          - type: OpenTelemetry\n            openTelemetry: {block}"


def compiled(*policies: str, labels: dict[str, str] | None = None) -> CompileResult:
    return compile_yaml(
        BARE_MESH,
        dataplane(
            "web-1", "127.0.0.2", "web", outbounds=[("api", 10001), ("db", 10002)], labels=labels
        ),
        dataplane("web-2", "127.0.0.5", "web", outbounds=[("api", 10001)]),
        dataplane("api-1", "127.0.0.3", "api"),
        dataplane("db-1", "127.0.0.4", "db", port=5432, protocol="tcp"),
        *policies,
    )


def clusters(result: CompileResult, node: str) -> dict[str, dict[str, Any]]:
    found = result.configs[node].by_name()[TypeUrl.CLUSTER]
    return {
        n: named(result.configs[node], TypeUrl.CLUSTER, n)
        for n in found
        if n.startswith("meshaccesslog:")
    }


def test_inline_endpoint_logger_and_collector_cluster() -> None:
    """envoy.access_loggers.open_telemetry: log name MeshAccessLog, Envoy gRPC to cluster
    meshaccesslog:opentelemetry:0; default body = the default format without newline;
    resource attribute kuma.mesh. The cluster: STRICT_DNS V4_ONLY for a hostname, 5 s,
    HTTP/2 (gRPC), port from the endpoint."""
    result = compiled(access_log("to", otel("{endpoint: 'otel-collector:4317'}")))
    (entry,) = logs(result, "default.web-1", "outbound:127.0.0.1:10001")
    assert entry["@type"].endswith("OpenTelemetryAccessLogConfig")
    assert entry["common_config"] == {
        "log_name": "MeshAccessLog",
        "grpc_service": {"envoy_grpc": {"cluster_name": "meshaccesslog:opentelemetry:0"}},
        "transport_api_version": "V3",
    }
    body = entry["body"]["string_value"]
    assert body.startswith('[%START_TIME%] default "%REQ(:METHOD)%')
    assert body.endswith('"web" "api" "127.0.0.2" "%UPSTREAM_HOST%"')
    assert entry["resource_attributes"] == {
        "values": [{"key": "kuma.mesh", "value": {"string_value": "default"}}]
    }
    assert "attributes" not in entry or entry["attributes"] == {}
    (cluster,) = clusters(result, "default.web-1").values()
    assert cluster["name"] == "meshaccesslog:opentelemetry:0"
    assert cluster["type"] == "STRICT_DNS"
    assert cluster["dns_lookup_family"] == "V4_ONLY"
    assert cluster["connect_timeout"] == "5s"
    assert cluster["typed_extension_protocol_options"] == HTTP2_OPTIONS
    lb = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]
    assert lb["endpoint"]["address"]["socket_address"] == {
        "address": "otel-collector",
        "port_value": 4317,
    }


def test_tcp_listener_gets_the_tcp_default_body() -> None:
    """A tcp_proxy listener: the network default format as the body."""
    result = compiled(access_log("to", otel("{endpoint: '127.0.0.9:4317'}")))
    (entry,) = logs(result, "default.web-1", "outbound:127.0.0.1:10002")
    assert entry["body"]["string_value"].startswith("[%START_TIME%] %RESPONSE_FLAGS% default")
    (cluster,) = clusters(result, "default.web-1").values()
    assert cluster["type"] == "STATIC"


def test_endpoint_without_port_defaults_to_4317() -> None:
    """ParseOtelEndpoint: no port -> 4317; a bare IPv6 address is a host alone."""
    assert parse_endpoint("collector") == ("collector", 4317)
    assert parse_endpoint("collector:4999") == ("collector", 4999)
    assert parse_endpoint("[fd00::1]:4000") == ("fd00::1", 4000)
    assert parse_endpoint("fd00::1") == ("fd00::1", 4317)
    assert parse_endpoint("collector:notaport") == ("collector", 4317)


def test_body_attributes_and_placeholders() -> None:
    """OtelBody: an AnyValue in JSON form, placeholders replaced in strings and kvlist keys;
    OtelAttributes: string values; OtelResourceAttributes: zone and workload when known."""
    block = """
              endpoint: '127.0.0.9:4317'
              body:
                kvlistValue:
                  values:
                    - key: "%KUMA_MESH%"
                      value: {stringValue: "%KUMA_SOURCE_SERVICE%->%KUMA_DESTINATION_SERVICE%"}
                    - key: status
                      value: {stringValue: "%RESPONSE_CODE%"}
              attributes:
                - {key: direction, value: "%KUMA_TRAFFIC_DIRECTION%"}
                - {key: zone, value: "%KUMA_ZONE%"}"""
    labels = {"kuma.io/zone": "east", "kuma.io/workload": "web", "k8s.kuma.io/namespace": "ns"}
    result = compiled(access_log("to", otel(block)), labels=labels)
    (entry,) = logs(result, "default.web-1", "outbound:127.0.0.1:10001")
    assert entry["body"] == {
        "kvlist_value": {
            "values": [
                {"key": "default", "value": {"string_value": "web->api"}},
                {"key": "status", "value": {"string_value": "%RESPONSE_CODE%"}},
            ]
        }
    }
    assert entry["attributes"] == {
        "values": [
            {"key": "direction", "value": {"string_value": "OUTBOUND"}},
            {"key": "zone", "value": {"string_value": "east"}},
        ]
    }
    assert entry["resource_attributes"]["values"] == [
        {"key": "kuma.mesh", "value": {"string_value": "default"}},
        {"key": "kuma.zone", "value": {"string_value": "east"}},
        {"key": "kuma.workload", "value": {"string_value": "kri_wl_default_east_ns_web_"}},
    ]


def test_string_body_is_kept_as_its_json_text() -> None:
    """OtelBody: a body that is not an AnyValue object becomes the string of its raw JSON
    (a YAML string keeps its quotes), placeholders replaced."""
    block = "{endpoint: '127.0.0.9:4317', body: '%KUMA_MESH% %RESPONSE_CODE%'}"
    result = compiled(access_log("to", otel(block)))
    (entry,) = logs(result, "default.web-1", "outbound:127.0.0.1:10001")
    assert entry["body"] == {"string_value": '"default %RESPONSE_CODE%"'}


def test_collectors_are_numbered_per_proxy_in_listener_order() -> None:
    """EndpointAccumulator: inbounds first, then outbounds; one cluster per distinct
    collector; web-2 (outbound only) numbers its only collector 0, so its outbound listener
    is not web-1's."""
    inbound = access_log(
        "from", otel("{endpoint: '127.0.0.8:4317'}"), "{kind: Dataplane, name: web-1}"
    )
    outbound = access_log("to", otel("{endpoint: '127.0.0.9:4317'}"))
    result = compiled(inbound, outbound)
    one = clusters(result, "default.web-1")
    assert sorted(one) == ["meshaccesslog:opentelemetry:0", "meshaccesslog:opentelemetry:1"]
    address = one["meshaccesslog:opentelemetry:1"]["load_assignment"]["endpoints"][0]
    assert address["lb_endpoints"][0]["endpoint"]["address"]["socket_address"]["address"] == (
        "127.0.0.9"
    )
    (web1,) = logs(result, "default.web-1", "outbound:127.0.0.1:10001")
    cluster_of = web1["common_config"]["grpc_service"]["envoy_grpc"]["cluster_name"]
    assert cluster_of == "meshaccesslog:opentelemetry:1"
    (in1,) = logs(result, "default.web-1", "inbound:127.0.0.2:8080")
    assert in1["common_config"]["grpc_service"]["envoy_grpc"]["cluster_name"].endswith(":0")
    (web2,) = logs(result, "default.web-2", "outbound:127.0.0.1:10001")
    assert web2["common_config"]["grpc_service"]["envoy_grpc"]["cluster_name"].endswith(":0")


def test_same_collector_twice_is_one_cluster() -> None:
    """Equal endpoints share one cluster (the accumulator's map key)."""
    block = "{endpoint: '127.0.0.9:4317'}"
    result = compiled(access_log("to", otel(block) + "\n" + otel(block)))
    assert list(clusters(result, "default.web-1")) == ["meshaccesslog:opentelemetry:0"]
    assert len(logs(result, "default.web-1", "outbound:127.0.0.1:10001")) == 2


BACKEND = """
type: MeshOpenTelemetryBackend
name: {name}
mesh: default
labels: {{team: {team}}}
spec:
  endpoint: {endpoint}
  protocol: {protocol}
"""


def test_backend_ref_resolves_by_labels() -> None:
    """resolveFromBackendRef: labels match; address, port and protocol from the spec; an
    http backend gets no HTTP/2; an absent address is 127.0.0.1 (universal node-local)."""
    ref = otel("{backendRef: {kind: MeshOpenTelemetryBackend, labels: {team: obs}}}")
    backend = BACKEND.format(name="c", team="obs", endpoint="{port: 4999}", protocol="http")
    result = compiled(access_log("to", ref), backend)
    (cluster,) = clusters(result, "default.web-1").values()
    assert "typed_extension_protocol_options" not in cluster
    lb = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]
    assert lb["endpoint"]["address"]["socket_address"] == {
        "address": "127.0.0.1",
        "port_value": 4999,
    }
    # Envoy's logger speaks gRPC only: the backend is reported as not reaching its collector
    (warning,) = [d for d in result.diagnostics if d.code == "RC502"]
    assert warning.field == "spec.to[0].default.backends[0].openTelemetry.backendRef"
    assert "MeshOpenTelemetryBackend c uses protocol http" in warning.message


def test_dangling_backend_ref_drops_the_backend() -> None:
    """ResolveBackends: an OpenTelemetry backend whose backendRef names no backend is left
    out (no logger, no cluster); the other backends stay."""
    ref = otel("{backendRef: {kind: MeshOpenTelemetryBackend, labels: {team: nobody}}}")
    file = "          - type: File\n            file: {path: /dev/stdout}"
    backend = BACKEND.format(
        name="c", team="obs", endpoint="{address: 127.0.0.9, port: 4317}", protocol="grpc"
    )
    result = compiled(access_log("to", ref + "\n" + file), backend)
    (entry,) = logs(result, "default.web-1", "outbound:127.0.0.1:10001")
    assert entry["@type"].endswith("FileAccessLog")
    assert clusters(result, "default.web-1") == {}


def test_default_format_body_matches_kuma_default() -> None:
    assert '"%UPSTREAM_HOST%"' in DEFAULT_HTTP_FORMAT


def test_body_values_envoy_rejects_fail_the_proxy() -> None:
    """Envoy accepts only string, kvlist and array values in the body ("Only string values,
    nested key value lists and array values are supported"): Kuma would be NACKed, the proxy
    is refused here with the reason."""
    block = "{endpoint: '127.0.0.9:4317', body: {intValue: 3}}"
    result = compiled(access_log("to", otel(block)))
    assert "default.web-1" not in result.configs
    (failure,) = [d for d in result.diagnostics if "default.web-1" in d.message]
    assert "int_value is not supported by Envoy's OpenTelemetry access logger" in failure.message


def test_editing_the_backend_recompiles_the_proxies_naming_it() -> None:
    """An incremental compile after a MeshOpenTelemetryBackend edit: the collector cluster
    follows the new address."""
    ref = otel("{backendRef: {kind: MeshOpenTelemetryBackend, labels: {team: obs}}}")
    documents = (BARE_MESH, dataplane("api-1", "127.0.0.3", "api"), access_log("from", ref))
    compiler = Compiler()
    for address in ("127.0.0.9", "127.0.0.10"):
        endpoint = f"{{address: {address}, port: 4317}}"
        backend = BACKEND.format(name="c", team="obs", endpoint=endpoint, protocol="grpc")
        result = compiler.compile(load_resources(*documents, backend))
        (cluster,) = clusters(result, "default.api-1").values()
        lb = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]
        assert lb["endpoint"]["address"]["socket_address"]["address"] == address


def test_a_file_backend_with_a_dangling_open_telemetry_block_is_dropped() -> None:
    """ResolveBackends resolves ``openTelemetry`` whatever the type: a File backend carrying
    a block that names no collector is dropped; with one that resolves, it stays a File log
    (and numbers no cluster)."""
    dangling = (
        "          - type: File\n"
        "            file: {path: /dev/stdout}\n"
        "            openTelemetry: {backendRef: {kind: MeshOpenTelemetryBackend, labels: {a: b}}}"
    )
    result = compiled(access_log("to", dangling))
    assert logs(result, "default.web-1", "outbound:127.0.0.1:10001") == []
    resolvable = dangling.replace(
        "{backendRef: {kind: MeshOpenTelemetryBackend, labels: {a: b}}}",
        "{endpoint: '127.0.0.9:4317'}",
    )
    result = compiled(access_log("to", resolvable))
    (entry,) = logs(result, "default.web-1", "outbound:127.0.0.1:10001")
    assert entry["path"] == "/dev/stdout"
    assert clusters(result, "default.web-1") == {}


def test_an_empty_open_telemetry_block_drops_only_its_backend() -> None:
    """ResolveOtelBackend returns nil without endpoint and backendRef: that backend goes,
    the backend next to it (no openTelemetry block) stays."""
    backends = (
        "          - type: File\n"
        "            file: {path: /tmp/a.log}\n"
        "            openTelemetry: {}\n"
        "          - type: File\n"
        "            file: {path: /tmp/b.log}"
    )
    result = compiled(access_log("to", backends))
    (entry,) = logs(result, "default.web-1", "outbound:127.0.0.1:10001")
    assert entry["path"] == "/tmp/b.log"
