"""MeshTrace: each test names the Kuma 2.14 behaviour it reproduces
(``pkg/plugins/policies/meshtrace/plugin/v1alpha1/plugin.go`` and ``plugin/xds/configurer.go``).
Expected values are written from that code, not from our output.
"""

from __future__ import annotations

from typing import Any

from test_compile_core import MESH, compile_yaml, dataplane, hcm_of_chain, load_resources, named

from reconciler.compile.compiler import Compiler, CompileResult
from reconciler.resource_types import TypeUrl

BARE_MESH = MESH + "skipCreatingInitialPolicies: ['*']\n"
ZIPKIN_URL = "http://jaeger-collector.mesh-observability:9411/api/v2/spans"


def trace(name: str, default: str, target: str = "{kind: Mesh}") -> str:
    return f"""
type: MeshTrace
name: {name}
mesh: default
spec:
  targetRef: {target}
  default:
{default}
"""


ZIPKIN = f"""    backends:
      - type: Zipkin
        zipkin:
          url: {ZIPKIN_URL}
          apiVersion: httpProto
          traceId128bit: true"""


def compiled(*policies: str) -> CompileResult:
    return compile_yaml(
        BARE_MESH,
        dataplane("web-1", "127.0.0.2", "web", outbounds=[("api", 10001), ("db", 10002)]),
        dataplane("api-1", "127.0.0.3", "api"),
        dataplane("db-1", "127.0.0.4", "db", port=5432, protocol="tcp"),
        *policies,
    )


def tracing(result: CompileResult, node: str, listener: str) -> dict[str, Any] | None:
    found = named(result.configs[node], TypeUrl.LISTENER, listener)
    chain = found["filter_chains"][0]["filters"]
    if not any(f["name"].endswith("connection_manager") for f in chain):
        return None
    value: dict[str, Any] | None = hcm_of_chain(found).get("tracing")
    return value


def cluster(result: CompileResult, node: str, name: str) -> dict[str, Any] | None:
    clusters = result.configs[node].by_name().get(TypeUrl.CLUSTER, {})
    return named(result.configs[node], TypeUrl.CLUSTER, name) if name in clusters else None


def zipkin_provider(cluster_name: str = "meshtrace:zipkin") -> dict[str, Any]:
    return {
        "name": "envoy.tracers.zipkin",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.config.trace.v3.ZipkinConfig",
            "collector_cluster": cluster_name,
            "collector_endpoint": "/api/v2/spans",
            "collector_endpoint_version": "HTTP_PROTO",
            "collector_hostname": "jaeger-collector.mesh-observability:9411",
            "shared_span_context": True,
            "trace_id_128bit": True,
        },
    }


def test_zipkin_on_inbound_and_outbound_with_sampling_and_tags() -> None:
    """``Configure``: sampling as Percent, tags (literal, header with default), then the
    ``kuma.mesh`` tag; ``spawn_upstream_span: false`` for a sidecar; the Zipkin provider
    from the URL (path, host:port), ``sharedSpanContext`` defaulting to true."""
    default = (
        ZIPKIN
        + """
    sampling:
      overall: 10
      client: 20
      random: "50.5"
    tags:
      - name: app
        literal: backend
      - name: app_code
        header: {name: app_code}
      - name: client_id
        header: {name: client_id, default: none}"""
    )
    result = compiled(trace("all", default))
    expected = {
        "spawn_upstream_span": False,
        "overall_sampling": {"value": 10.0},
        "client_sampling": {"value": 20.0},
        "random_sampling": {"value": 50.5},
        "custom_tags": [
            {"tag": "app", "literal": {"value": "backend"}},
            {"tag": "app_code", "request_header": {"name": "app_code"}},
            {"tag": "client_id", "request_header": {"name": "client_id", "default_value": "none"}},
            {"tag": "kuma.mesh", "literal": {"value": "default"}},
        ],
        "provider": zipkin_provider(),
    }
    assert tracing(result, "default.web-1", "outbound:127.0.0.1:10001") == expected
    assert tracing(result, "default.web-1", "inbound:127.0.0.2:8080") == expected
    assert tracing(result, "default.api-1", "inbound:127.0.0.3:8080") == expected


def test_tcp_listeners_get_no_tracing_but_the_collector_cluster_is_added() -> None:
    """``UpdateHTTPConnectionManager`` skips chains without an HCM; ``applyToClusters`` adds
    ``meshtrace:zipkin`` (ProvidedEndpointCluster: STRICT_DNS V4_ONLY for a host name,
    connect timeout 5 s) to every selected proxy."""
    result = compiled(trace("all", ZIPKIN))
    assert tracing(result, "default.web-1", "outbound:127.0.0.1:10002") is None
    assert tracing(result, "default.db-1", "inbound:127.0.0.4:5432") is None
    assert cluster(result, "default.db-1", "meshtrace:zipkin") == {
        "name": "meshtrace:zipkin",
        "type": "STRICT_DNS",
        "dns_lookup_family": "V4_ONLY",
        "connect_timeout": "5s",
        "circuit_breakers": {"thresholds": [{"track_remaining": True}]},
        "load_assignment": {
            "cluster_name": "meshtrace:zipkin",
            "endpoints": [
                {
                    "lb_endpoints": [
                        {
                            "endpoint": {
                                "address": {
                                    "socket_address": {
                                        "address": "jaeger-collector.mesh-observability",
                                        "port_value": 9411,
                                    }
                                }
                            }
                        }
                    ]
                }
            ],
        },
    }


def test_no_backend_means_no_tracing_and_no_cluster() -> None:
    """``Configure`` and ``applyToClusters`` return early when ``backends`` is empty, even
    with sampling set."""
    result = compiled(trace("none", "    backends: []\n    sampling: {overall: 5}"))
    assert tracing(result, "default.web-1", "outbound:127.0.0.1:10001") is None
    assert cluster(result, "default.web-1", "meshtrace:zipkin") is None


def test_more_specific_policy_replaces_the_backend_and_keeps_other_fields() -> None:
    """Single-item rules merge ``default`` least specific first; ``backends`` (an array) is
    replaced whole, ``sampling`` merges field by field. Datadog ``splitService`` names
    ``<service>_INBOUND`` and ``<service>_OUTBOUND_<destination>``; the Datadog cluster to an
    IP address is STATIC."""
    datadog = """    backends:
      - type: Datadog
        datadog: {url: "http://127.0.0.1:8126", splitService: true}
    sampling: {random: 5}"""
    result = compiled(
        trace("all", ZIPKIN + "\n    sampling: {overall: 50}"),
        trace("web", datadog, "{kind: MeshService, name: web}"),
    )
    out = tracing(result, "default.web-1", "outbound:127.0.0.1:10001")
    inbound = tracing(result, "default.web-1", "inbound:127.0.0.2:8080")
    assert out is not None and inbound is not None
    assert out["overall_sampling"] == {"value": 50.0}
    assert out["random_sampling"] == {"value": 5.0}
    datadog_type = "type.googleapis.com/envoy.config.trace.v3.DatadogConfig"
    assert out["provider"] == {
        "name": "envoy.tracers.datadog",
        "typed_config": {
            "@type": datadog_type,
            "collector_cluster": "meshtrace:datadog",
            "service_name": "web_OUTBOUND_api",
        },
    }
    assert inbound["provider"]["typed_config"]["service_name"] == "web_INBOUND"
    found = cluster(result, "default.web-1", "meshtrace:datadog")
    assert found is not None and found["type"] == "STATIC" and "dns_lookup_family" not in found
    assert cluster(result, "default.web-1", "meshtrace:zipkin") is None
    # api-1 is not selected by "web": still Zipkin
    api = tracing(result, "default.api-1", "inbound:127.0.0.3:8080")
    assert api is not None and api["provider"] == zipkin_provider()


def test_opentelemetry_inline_endpoint_grpc() -> None:
    """``opentelemetryConfig``: ``service_name`` is the proxy's service, gRPC to
    ``meshtrace:opentelemetry``; the cluster speaks HTTP/2; ``ParseOtelEndpoint`` gives
    port 4317 when the endpoint has none."""
    otel = """    backends:
      - type: OpenTelemetry
        openTelemetry: {endpoint: otel-collector}"""
    result = compiled(trace("otel", otel))
    found = tracing(result, "default.api-1", "inbound:127.0.0.3:8080")
    assert found is not None
    assert found["provider"] == {
        "name": "envoy.tracers.opentelemetry",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig",
            "grpc_service": {"envoy_grpc": {"cluster_name": "meshtrace:opentelemetry"}},
            "service_name": "api",
        },
    }
    otel_cluster = cluster(result, "default.api-1", "meshtrace:opentelemetry")
    assert otel_cluster is not None
    endpoint = otel_cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    assert endpoint["address"]["socket_address"] == {
        "address": "otel-collector",
        "port_value": 4317,
    }
    options = otel_cluster["typed_extension_protocol_options"]
    http = options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
    assert http["explicit_http_config"] == {"http2_protocol_options": {}}


OTEL_BACKEND = """
type: MeshOpenTelemetryBackend
name: {name}
mesh: default
labels: {labels}
spec:
{spec}
"""
BY_LABELS = """    backends:
      - type: OpenTelemetry
        openTelemetry:
          backendRef:
            kind: MeshOpenTelemetryBackend
            labels: {team: obs}"""


def test_backend_ref_http_uses_the_otlp_http_uri_and_a_plain_cluster() -> None:
    """``openTelemetryHTTPConfig``: ``http_service.http_uri`` = ``http://host:port`` + base
    path joined with ``v1/traces``, timeout 10 s; the cluster is HTTP/1.1 (no Http2)."""
    backend = OTEL_BACKEND.format(
        name="collector",
        labels="{team: obs}",
        spec="  endpoint: {address: 10.0.0.10, port: 4318, path: /otlp}\n  protocol: http",
    )
    result = compiled(backend, trace("otel", BY_LABELS))
    found = tracing(result, "default.web-1", "outbound:127.0.0.1:10001")
    assert found is not None
    assert found["provider"]["typed_config"] == {
        "@type": "type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig",
        "http_service": {
            "http_uri": {
                "uri": "http://10.0.0.10:4318/otlp/v1/traces",
                "cluster": "meshtrace:opentelemetry",
                "timeout": "10s",
            }
        },
        "service_name": "web",
    }
    otel_cluster = cluster(result, "default.web-1", "meshtrace:opentelemetry")
    assert otel_cluster is not None and otel_cluster["type"] == "STATIC"
    assert "typed_extension_protocol_options" not in otel_cluster


def test_backend_ref_defaults_and_the_first_match_by_name() -> None:
    """``resolvedFromSpec``: no address -> 127.0.0.1 (universal), no port -> 4317, gRPC;
    of two matching backends Kuma takes the oldest: here, the first by name."""
    result = compiled(
        OTEL_BACKEND.format(name="b-second", labels="{team: obs}", spec="  protocol: grpc"),
        OTEL_BACKEND.format(name="a-first", labels="{team: obs, x: y}", spec="  {}"),
        trace("otel", BY_LABELS),
    )
    otel_cluster = cluster(result, "default.web-1", "meshtrace:opentelemetry")
    assert otel_cluster is not None
    endpoint = otel_cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    assert endpoint["address"]["socket_address"] == {"address": "127.0.0.1", "port_value": 4317}


def test_dangling_backend_ref_keeps_sampling_but_adds_no_provider_nor_cluster() -> None:
    """``SkipOpenTelemetry``: the HCM still gets ``tracing`` (sampling, tags), no provider;
    ``applyToClusters`` returns when the backend does not resolve."""
    result = compiled(trace("otel", BY_LABELS + "\n    sampling: {overall: 1}"))
    found = tracing(result, "default.web-1", "outbound:127.0.0.1:10001")
    assert found == {
        "spawn_upstream_span": False,
        "overall_sampling": {"value": 1.0},
        "custom_tags": [{"tag": "kuma.mesh", "literal": {"value": "default"}}],
    }
    assert cluster(result, "default.web-1", "meshtrace:opentelemetry") is None
    # Kuma only logs it; the reconciler says so (RC502) for the proxies the policy selects
    message = "no MeshOpenTelemetryBackend of mesh default has the labels team=obs"
    assert any(message in n for n in result.configs["default.web-1"].notes)
    found_diagnostics = [d for d in result.diagnostics if message in d.message]
    assert [d.code for d in found_diagnostics] == ["RC502"]
    assert found_diagnostics[0].field.endswith("openTelemetry.backendRef")


def test_otlp_http_to_port_443_is_noted() -> None:
    """Kuma's heuristic: OTLP/HTTP to port 443 is HTTPS (``UseHTTPS``): the URI says https;
    the TLS transport socket is not compiled, which a note says."""
    backend = OTEL_BACKEND.format(
        name="saas",
        labels="{team: obs}",
        spec="  endpoint: {address: otlp.example.com, port: 443}\n  protocol: http",
    )
    result = compiled(backend, trace("otel", BY_LABELS))
    found = tracing(result, "default.web-1", "outbound:127.0.0.1:10001")
    assert found is not None
    uri = found["provider"]["typed_config"]["http_service"]["http_uri"]["uri"]
    assert uri == "https://otlp.example.com:443/v1/traces"
    notes = result.configs["default.web-1"].notes
    assert any("OTLP/HTTP to port 443" in n for n in notes)


def test_service_policy_applies_to_every_inbound_of_a_selected_proxy() -> None:
    """Single-item rules are per proxy: a MeshService policy selecting one of a proxy's
    services configures all its inbounds (only Dataplane sectionName narrows them)."""
    two_services = """
type: Dataplane
mesh: default
name: multi-1
networking:
  address: 127.0.0.8
  inbound:
    - port: 8080
      tags: {kuma.io/service: zeta, kuma.io/protocol: http}
    - port: 8081
      tags: {kuma.io/service: alpha, kuma.io/protocol: http}
"""
    otel = "    backends:\n      - type: OpenTelemetry\n        openTelemetry: {endpoint: c:4317}"
    result = compile_yaml(
        BARE_MESH, two_services, trace("z", otel, "{kind: MeshService, name: zeta}")
    )
    for listener in ("inbound:127.0.0.8:8080", "inbound:127.0.0.8:8081"):
        found = tracing(result, "default.multi-1", listener)
        assert found is not None
        assert found["provider"]["typed_config"]["service_name"] == "alpha"


def test_workload_label_adds_the_kuma_workload_tag_unless_a_tag_has_that_name() -> None:
    """``kuma.workload`` = the Workload KRI of a Dataplane labelled ``kuma.io/workload``;
    a user tag of the same name wins (``found`` check)."""
    labelled = dataplane("web-1", "127.0.0.2", "web", labels={"kuma.io/workload": "shop"})
    result = compile_yaml(BARE_MESH, labelled, trace("all", ZIPKIN))
    found = tracing(result, "default.web-1", "inbound:127.0.0.2:8080")
    assert found is not None
    assert found["custom_tags"] == [
        {"tag": "kuma.mesh", "literal": {"value": "default"}},
        {"tag": "kuma.workload", "literal": {"value": "kri_wl_default___shop_"}},
    ]
    tagged = ZIPKIN + "\n    tags:\n      - {name: kuma.mesh, literal: mine}"
    result = compile_yaml(BARE_MESH, labelled, trace("all", tagged))
    found = tracing(result, "default.web-1", "inbound:127.0.0.2:8080")
    assert found is not None
    assert [t["tag"] for t in found["custom_tags"]] == ["kuma.mesh", "kuma.workload"]
    assert found["custom_tags"][0]["literal"] == {"value": "mine"}


def test_https_zipkin_is_noted() -> None:
    """Kuma adds client-side TLS to an https collector; not compiled here: a warning."""
    https = ZIPKIN.replace("http://", "https://")
    result = compiled(trace("tls", https))
    notes = result.configs["default.web-1"].notes
    assert any("https Zipkin url" in n and "meshtrace:zipkin" in n for n in notes)
    assert any(d.code == "RC502" and "https Zipkin url" in d.message for d in result.diagnostics)


def test_a_changed_backend_resource_recompiles_the_proxies_that_use_it() -> None:
    """The resolved collector is part of the conf: a new port reaches the cluster."""
    spec = "  endpoint: {{address: 10.0.0.10, port: {port}}}"
    compiler = Compiler()
    for port in (4317, 4319):
        backend = OTEL_BACKEND.format(name="c", labels="{team: obs}", spec=spec.format(port=port))
        resources = load_resources(
            BARE_MESH,
            dataplane("web-1", "127.0.0.2", "web", outbounds=[("api", 10001)]),
            dataplane("api-1", "127.0.0.3", "api"),
            backend,
            trace("otel", BY_LABELS),
        )
        config = compiler.compile(resources).configs["default.web-1"]
        found = named(config, TypeUrl.CLUSTER, "meshtrace:opentelemetry")
        endpoint = found["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
        assert endpoint["address"]["socket_address"]["port_value"] == port
