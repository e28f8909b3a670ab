"""MeshMetric, as Kuma 2.14's ``meshmetric/plugin/v1alpha1/plugin.go`` and
``plugin/xds/prometheus_configurer.go`` build it, with Envoy's admin in place of kuma-dp.

Expected values are Kuma's: listener ``_kuma:metrics:prometheus:<clientId>``
(``PrometheusListenerName``, ``DefaultBackendName``), on the Dataplane address and the
backend port, INBOUND (``NewInboundListenerBuilder``), HCM stat prefix = the listener name
through ``SanitizeMetric``, one virtual host named like the listener, domain ``*``, a
*prefix* match on the backend path, ``validate_clusters: false`` (``StaticEndpoints``);
cluster connect timeout 5 s (``DefaultTimeout``); single-item rules merged least specific
first; nothing without backends (``len(conf.Backends) == 0``).
"""

from __future__ import annotations

from typing import Any

from reconciler.compile.compiler import compile_resources
from reconciler.compile.provenance import proxy_provenance
from reconciler.kinds.mesh_metric.sidecar import stats_query
from reconciler.resource_types import ProxyConfig, TypeUrl
from tests.unit.test_compile_core import as_dict, compile_yaml, load_resources

MESH = "type: Mesh\nname: default\nskipCreatingInitialPolicies: ['*']\n"
DATAPLANES = """
type: Dataplane
mesh: default
name: web-1
networking:
  address: 127.0.0.2
  admin: {port: 9950}
  inbound:
    - port: 8080
      tags: {kuma.io/service: web, kuma.io/protocol: http}
---
type: Dataplane
mesh: default
name: api-1
networking:
  address: 127.0.0.3
  inbound:
    - port: 8080
      tags: {kuma.io/service: api, kuma.io/protocol: http}
"""
MTLS_MESH = """
type: Mesh
name: default
skipCreatingInitialPolicies: ['*']
mtls:
  enabledBackend: ca-1
  backends: [{name: ca-1, type: builtin}]
"""


def policy(name: str, target: str, default: str) -> str:
    return f"""
type: MeshMetric
name: {name}
mesh: default
spec:
  targetRef: {target}
  default: {default}
"""


def configs(*documents: str, mesh: str = MESH) -> dict[str, ProxyConfig]:
    return compile_yaml(mesh, DATAPLANES, *documents).configs


def listeners(config: ProxyConfig) -> dict[str, dict[str, Any]]:
    return {
        name: as_dict(listener)
        for name, listener in config.by_name().get(TypeUrl.LISTENER, {}).items()
        if name.startswith("_kuma:metrics:prometheus:")
    }


def route_of(chain: dict[str, Any]) -> dict[str, Any]:
    hcm = chain["filters"][0]["typed_config"]
    return dict(hcm["route_config"]["virtual_hosts"][0]["routes"][0])


def test_prometheus_backend_defaults_kuma_names_and_shapes() -> None:
    out = configs(policy("m", "{kind: Mesh}", "{backends: [{type: Prometheus, prometheus: {}}]}"))
    web = out["default.web-1"]
    listener = listeners(web)["_kuma:metrics:prometheus:default-backend"]
    assert listener["address"]["socket_address"] == {
        "address": "127.0.0.2",
        "port_value": 5670,
    }
    assert listener["traffic_direction"] == "INBOUND"
    (chain,) = listener["filter_chains"]
    hcm = chain["filters"][0]["typed_config"]
    assert chain["filters"][0]["name"] == "envoy.filters.network.http_connection_manager"
    assert hcm["stat_prefix"] == "_kuma_metrics_prometheus_default-backend"
    assert [f["name"] for f in hcm["http_filters"]] == ["envoy.filters.http.router"]
    route_config = hcm["route_config"]
    assert route_config["validate_clusters"] is False
    (host,) = route_config["virtual_hosts"]
    assert host["name"] == "_kuma:metrics:prometheus:default-backend"
    assert host["domains"] == ["*"]
    (route,) = host["routes"]
    assert route["match"] == {"prefix": "/metrics"}
    assert route["route"]["cluster"] == "kuma:envoy:admin"
    # profile unset = Basic (not expressible) and includeUnused unset = false: usedonly only
    assert route["route"]["prefix_rewrite"] == "/stats/prometheus?usedonly&"
    cluster = as_dict(web.by_name()[TypeUrl.CLUSTER]["kuma:envoy:admin"])
    assert cluster["type"] == "STATIC"
    assert cluster["connect_timeout"] == "5s"
    endpoint = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    assert endpoint["address"]["socket_address"] == {"address": "127.0.0.1", "port_value": 9950}
    api_cluster = as_dict(out["default.api-1"].by_name()[TypeUrl.CLUSTER]["kuma:envoy:admin"])
    api_endpoint = api_cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    assert api_endpoint["address"]["socket_address"]["port_value"] == 9901  # Kuma's default


def test_more_specific_policy_wins_and_backends_are_replaced_whole() -> None:
    mesh_wide = policy(
        "a-mesh",
        "{kind: Mesh}",
        "{backends: [{type: Prometheus, prometheus: {port: 5670, clientId: one}}]}",
    )
    web_only = policy(
        "web",
        "{kind: MeshService, name: web}",
        "{backends: [{type: Prometheus, prometheus: {port: 9102, path: /stats, clientId: two}}]}",
    )
    out = configs(mesh_wide, web_only)
    web = listeners(out["default.web-1"])
    assert list(web) == ["_kuma:metrics:prometheus:two"]  # the array is replaced, not merged
    assert web["_kuma:metrics:prometheus:two"]["address"]["socket_address"]["port_value"] == 9102
    assert route_of(web["_kuma:metrics:prometheus:two"]["filter_chains"][0])["match"] == {
        "prefix": "/stats"
    }
    assert list(listeners(out["default.api-1"])) == ["_kuma:metrics:prometheus:one"]


def test_no_backend_or_only_open_telemetry_builds_nothing() -> None:
    otel = "{backends: [{type: OpenTelemetry, openTelemetry: {endpoint: 'collector:4317'}}]}"
    result = compile_yaml(MESH, DATAPLANES, policy("m", "{kind: Mesh}", otel))
    for config in result.configs.values():
        assert not listeners(config)
        assert "kuma:envoy:admin" not in config.by_name()[TypeUrl.CLUSTER]
        assert any(
            "backends[0]: not applied: Envoy pushes metrics over OTLP" in n for n in config.notes
        )
    assert {d.code for d in result.diagnostics} == {"RC502"}
    empty = configs(policy("m", "{kind: Mesh}", "{sidecar: {includeUnused: true}}"))
    assert not any(listeners(c) for c in empty.values())


def test_applications_are_noted_as_not_applied() -> None:
    default = (
        "{applications: [{port: 8888, path: /metrics/prometheus}],"
        " backends: [{type: Prometheus, prometheus: {}}]}"
    )
    result = compile_yaml(MESH, DATAPLANES, policy("m", "{kind: Mesh}", default))
    notes = result.configs["default.web-1"].notes
    assert any("spec.default.applications[0]: not applied: scraping" in n for n in notes)


def test_active_mtls_backend_serves_mesh_certificate_and_own_address_plaintext() -> None:
    default = "{backends: [{type: Prometheus, prometheus: {tls: {mode: ActiveMTLSBackend}}}]}"
    out = configs(policy("m", "{kind: Mesh}", default), mesh=MTLS_MESH)
    listener = listeners(out["default.web-1"])["_kuma:metrics:prometheus:default-backend"]
    assert [f["name"] for f in listener["listener_filters"]] == [
        "envoy.filters.listener.tls_inspector"
    ]
    own, secured = listener["filter_chains"]
    assert own["filter_chain_match"] == {
        "source_prefix_ranges": [{"address_prefix": "127.0.0.2", "prefix_len": 32}]
    }
    assert "transport_socket" not in own
    assert secured["filter_chain_match"] == {"transport_protocol": "tls"}
    tls = secured["transport_socket"]["typed_config"]
    assert tls["require_client_certificate"] is True
    common = tls["common_tls_context"]
    assert common["tls_certificate_sds_secret_configs"][0]["name"] == "identity_cert:secret:default"
    validation = common["combined_validation_context"]
    assert validation["validation_context_sds_secret_config"]["name"] == "mesh_ca:secret:default"
    assert route_of(own) == route_of(secured)


def test_active_mtls_backend_without_mesh_mtls_is_plaintext_and_noted() -> None:
    default = "{backends: [{type: Prometheus, prometheus: {tls: {mode: ActiveMTLSBackend}}}]}"
    result = compile_yaml(MESH, DATAPLANES, policy("m", "{kind: Mesh}", default))
    config = result.configs["default.web-1"]
    (listener,) = listeners(config).values()
    assert "listener_filters" not in listener and len(listener["filter_chains"]) == 1
    assert any("ActiveMTLSBackend is not applied: the mesh has no mTLS" in n for n in config.notes)


def test_provided_tls_falls_back_to_plaintext_as_kuma_without_cert_paths() -> None:
    default = "{backends: [{type: Prometheus, prometheus: {tls: {mode: ProvidedTLS}}}]}"
    result = compile_yaml(MTLS_MESH, DATAPLANES, policy("m", "{kind: Mesh}", default))
    config = result.configs["default.web-1"]
    (listener,) = listeners(config).values()
    assert "transport_socket" not in listener["filter_chains"][0]
    assert any("ProvidedTLS is not applied" in n for n in config.notes)


def test_stats_query_honours_what_envoy_can_filter() -> None:
    # includeUnused -> usedonly (kuma-dp asks Envoy for ?usedonly unless includeUnused)
    assert stats_query({}).rewrite() == "/stats/prometheus?usedonly&"
    assert stats_query({"includeUnused": True}).used_only is False
    all_profile = {"profiles": {"appendProfiles": [{"name": "All"}]}}
    assert stats_query(all_profile).filter is None and not stats_query(all_profile).skipped
    # the broadest of appendProfiles wins (profileOrder All < Basic < None)
    mixed = {"profiles": {"appendProfiles": [{"name": "None"}, {"name": "All"}]}}
    assert stats_query(mixed).filter is None and not stats_query(mixed).skipped
    none = stats_query({"includeUnused": True, "profiles": {"appendProfiles": [{"name": "None"}]}})
    assert (none.filter, none.skipped) == ("^$", ())
    assert none.rewrite() == "/stats/prometheus?filter=%5E%24&"
    # All + include is exact (everything is included anyway); None + exclude as well
    include = [{"type": "Prefix", "match": "envoy_cluster"}]
    assert not stats_query(
        {"profiles": {"appendProfiles": [{"name": "All"}], "include": include}}
    ).skipped
    assert not stats_query(
        {"profiles": {"appendProfiles": [{"name": "None"}], "exclude": include}}
    ).skipped


def test_stats_query_names_what_it_cannot_express() -> None:
    basic = stats_query({})
    assert basic.filter is None
    assert [p for p, _ in basic.skipped] == [("sidecar", "profiles")]
    assert "profile Basic" in basic.skipped[0][1]
    selectors = [{"type": "Regex", "match": "envoy_cluster_.*"}]
    excluded = stats_query(
        {"profiles": {"appendProfiles": [{"name": "All"}], "exclude": selectors}}
    )
    assert [p for p, _ in excluded.skipped] == [("sidecar", "profiles", "exclude")]
    assert excluded.filter is None
    included = stats_query(
        {"profiles": {"appendProfiles": [{"name": "None"}], "include": selectors}}
    )
    assert [p for p, _ in included.skipped] == [("sidecar", "profiles", "include")]
    assert included.filter is None  # served unfiltered rather than dropping included metrics


def test_inspect_shows_the_merged_conf_and_who_set_each_value() -> None:
    mesh_wide = policy("a-mesh", "{kind: Mesh}", "{backends: [{type: Prometheus, prometheus: {}}]}")
    web_only = policy("web", "{kind: MeshService, name: web}", "{sidecar: {includeUnused: true}}")
    resources = load_resources(MESH, DATAPLANES, mesh_wide, web_only)
    trace = compile_resources(resources).traces["default.web-1"]
    web = next(r for r in resources if r.kind == "Dataplane" and r.name == "web-1")
    (block,) = proxy_provenance(trace, web)["proxyWide"]
    assert block["kind"] == "MeshMetric"
    assert [p["name"] for p in block["policies"]] == ["a-mesh", "web"]
    setters = {v["field"]: v["from"][0]["policy"] for v in block["values"]}
    assert setters == {"backends": "a-mesh", "sidecar.includeUnused": "web"}


def test_a_port_the_proxy_already_listens_on_is_not_served_twice() -> None:
    """Envoy would NACK the whole LDS update for a second listener on one address:port."""
    default = (
        "{backends: [{type: Prometheus, prometheus: {port: 8080, clientId: a}},"
        " {type: Prometheus, prometheus: {port: 5670, clientId: b}},"
        " {type: Prometheus, prometheus: {port: 5670, clientId: c}}]}"
    )
    result = compile_yaml(MESH, DATAPLANES, policy("m", "{kind: Mesh}", default))
    config = result.configs["default.web-1"]
    assert list(listeners(config)) == ["_kuma:metrics:prometheus:b"]
    assert any("port 8080 is already inbound:127.0.0.2:8080" in n for n in config.notes)
    assert any("port 5670 is already _kuma:metrics:prometheus:b" in n for n in config.notes)


def test_mesh_proxy_patch_sees_the_metrics_resources_with_kuma_origin_prometheus() -> None:
    """Kuma applies MeshProxyPatch last, to every resource, the Prometheus listener and
    cluster included (``generator_metadata.OriginPrometheus``)."""
    metric = policy("m", "{kind: Mesh}", "{backends: [{type: Prometheus, prometheus: {}}]}")
    patch = """
type: MeshProxyPatch
name: tune-metrics
mesh: default
spec:
  targetRef: {kind: Mesh}
  default:
    appendModifications:
      - cluster:
          operation: Patch
          match: {origin: prometheus}
          value: "connectTimeout: 2s"
"""
    config = compile_yaml(MESH, DATAPLANES, metric, patch).configs["default.web-1"]
    cluster = as_dict(config.by_name()[TypeUrl.CLUSTER]["kuma:envoy:admin"])
    assert cluster["connect_timeout"] == "2s"
    inbound = as_dict(config.by_name()[TypeUrl.CLUSTER]["localhost:8080"])
    assert inbound.get("connect_timeout") != "2s"  # origin inbound: not matched
