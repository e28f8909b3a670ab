"""MeshTrace: tracing on every HTTP connection manager of the selected proxies.

Kuma 2.14 (``meshtrace/plugin/v1alpha1/plugin.go`` and ``plugin/xds/configurer.go``). The
policies selecting a proxy merge their top-level ``default`` (Kuma's single-item rules); an
inbound leaves out ``Dataplane`` policies whose ``sectionName`` names another inbound. Every
inbound and outbound HCM (not MeshExternalService outbounds; TCP listeners have no HCM) gets,
when the conf has a backend:

* ``tracing.spawn_upstream_span: false`` (a sidecar, not a gateway);
* ``sampling.overall`` / ``client`` / ``random`` -> ``overall_sampling`` / ``client_sampling``
  / ``random_sampling`` (int or decimal string, as a Percent), only when set (Envoy's
  default for each is 100 %, Kuma's documented default);
* ``tags``: a header tag (``request_header`` name and ``default_value``) or a literal, in
  order; then ``kuma.mesh`` = the mesh and, for a Dataplane labelled ``kuma.io/workload``,
  ``kuma.workload`` = its KRI, unless a tag of that name exists (``kuma.zone`` needs a zone
  name: this control plane has none);
* the provider of the backend: ``envoy.tracers.zipkin`` (``collector_endpoint`` the URL
  path, ``collector_hostname`` its host, ``trace_id_128bit``, ``shared_span_context``
  default true, ``collector_endpoint_version`` ``HTTP_JSON`` unless ``apiVersion:
  httpProto``), ``envoy.tracers.datadog`` (``service_name``: the proxy's service, with
  ``splitService`` ``<service>_INBOUND`` / ``<service>_OUTBOUND_<destination>``) or
  ``envoy.tracers.opentelemetry`` (``service_name`` the proxy's service; gRPC to the
  cluster, or OTLP/HTTP ``http_service`` for a MeshOpenTelemetryBackend with ``protocol:
  http``, timeout 10 s). The service is Kuma's ``IdentifyingName``: the proxy's
  ``kuma.io/service`` values sorted, the first (``unknown`` without one).

Field defaults (``sharedSpanContext: true``, ``apiVersion: httpJson``) are the schema's:
Kuma 2.14 applies them when it reads a universal resource.

The collector cluster (``applyToClusters``, from the proxy-wide conf) follows the first of
``zipkin``, ``datadog``, ``openTelemetry`` that is set (the HCM's provider the last one):
``meshtrace:<provider>`` (Kuma's legacy name), a ProvidedEndpointCluster to the Zipkin or
Datadog URL's host and port (Go ``url.ParseRequestURI``; no port: 0) or to the OpenTelemetry
collector (:mod:`reconciler.compile.otel_backend`), HTTP/2 for OTLP/gRPC. A ``backendRef``
no MeshOpenTelemetryBackend matches adds no provider and no cluster, as in Kuma.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from envoy.config.cluster.v3 import cluster_pb2 as envoy_cluster
from envoy.config.trace.v3 import datadog_pb2 as envoy_datadog
from envoy.config.trace.v3 import http_tracer_pb2 as envoy_http_tracer
from envoy.config.trace.v3 import opentelemetry_pb2 as envoy_otel
from envoy.config.trace.v3 import zipkin_pb2 as envoy_zipkin
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as envoy_hcm,
)
from envoy.type.tracing.v3 import custom_tag_pb2 as envoy_custom_tag
from google.protobuf.message import Message

from reconciler import names
from reconciler.compile import kri, otel_backend
from reconciler.compile.builders import clusters as cluster_builders
from reconciler.compile.builders.values import set_duration
from reconciler.compile.context import (
    Hook,
    InboundContext,
    ListenerParts,
    OutboundContext,
    Section,
    Source,
)
from reconciler.compile.decimals import percent
from reconciler.compile.inventory import MeshIndex
from reconciler.compile.merge import Merged, canonical, mapping
from reconciler.compile.plugin import PolicyBase
from reconciler.compile.trace import Skip
from reconciler.errors import CompileError
from reconciler.model import Resource
from reconciler.targetref import SERVICE_TAG
from reconciler.validate.rules.addresses import parse_request_uri

ZIPKIN, DATADOG, OTEL = "zipkin", "datadog", "opentelemetry"
FIELDS = {ZIPKIN: "zipkin", DATADOG: "datadog", OTEL: "openTelemetry"}
TRACERS = {
    ZIPKIN: "envoy.tracers.zipkin",
    DATADOG: "envoy.tracers.datadog",
    OTEL: "envoy.tracers.opentelemetry",
}
RESOLVED = "resolvedOpenTelemetryBackend"
"""Key under which :meth:`MeshTrace.resolve` records the OpenTelemetry collector in the conf
(so the conf's key, which shares listeners and clusters, covers the referenced resource)."""
UNKNOWN_SERVICE = "unknown"
WORKLOAD_LABEL = "kuma.io/workload"
TRACES_SUFFIX = "v1/traces"
OTEL_HTTP_TIMEOUT_S = 10.0
DANGLING_NOTE = (
    "no MeshOpenTelemetryBackend of mesh {mesh} has the labels {labels}: Kuma skips this "
    "backend (no tracing provider, no collector cluster)"
)
OTLP_HTTPS_NOTE = (
    "MeshOpenTelemetryBackend {name}: OTLP/HTTP to port 443 is HTTPS in Kuma; the cluster "
    "{cluster} is built without TLS here"
)
HTTPS_NOTE = (
    "an https Zipkin url: Kuma reaches the collector over TLS; the cluster {cluster} is built "
    "without TLS here, so the collector must accept plain HTTP on that port"
)


def identifying_name(source: Source | None) -> str:
    """Kuma ``IdentifyingName``: the first of the proxy's sorted ``kuma.io/service`` values."""
    tags = dict(source.tags) if source is not None else {}
    values = tags.get(SERVICE_TAG, "")
    return values.split(",")[0] if values else UNKNOWN_SERVICE


def workload_kri(mesh: str, source: Source | None) -> str:
    """Kuma's Workload KRI ``kri_wl_<mesh>_<zone>_<namespace>_<name>_`` (no zone, no
    namespace on this control plane), or empty without a ``kuma.io/workload`` label."""
    workload = source.label(WORKLOAD_LABEL) if source is not None else ""
    return kri.workload_kri(mesh, workload) if workload else ""


def backend(conf: Merged | Mapping[str, Any]) -> Mapping[str, Any]:
    """The one backend (``backends[0]``), or an empty mapping."""
    raw = conf.get("backends")
    if isinstance(raw, list) and raw and isinstance(raw[0], Mapping):
        return raw[0]
    return {}


def _host_port(url: str) -> tuple[str, int]:
    """Go ``url.ParseRequestURI`` then ``Hostname()`` and ``Port()`` (no port: 0)."""
    parsed = parse_request_uri(url)
    if parsed is None:
        raise CompileError(f"MeshTrace: invalid collector URL {url!r}")
    host = parsed.host
    colon = host.rfind(":")
    if colon != -1 and (host[colon + 1 :].isdigit() or colon == len(host) - 1):
        host = host[:colon]
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(parsed.port) if parsed.port else 0


@dataclass(frozen=True, slots=True)
class Collector:
    """The proxy's collector cluster: Kuma ``applyToClusters`` on the proxy-wide conf."""

    provider: str
    host: str
    port: int
    http2: bool


def collector(conf: Merged) -> Collector | None:
    """Where the proxy-wide conf sends spans; None without a backend or a resolved one."""
    found = backend(conf)
    provider = next((p for p, f in FIELDS.items() if found.get(f) is not None), None)
    if provider in (ZIPKIN, DATADOG):
        host, port = _host_port(str(mapping(found.get(FIELDS[provider])).get("url", "")))
        http2 = False
    elif provider == OTEL:
        resolved = conf.get(RESOLVED)
        if not isinstance(resolved, Mapping):
            return None
        host, port = str(resolved["address"]), int(resolved["port"])
        http2 = resolved.get("protocol") != otel_backend.HTTP
    else:
        return None
    return Collector(provider, host, port, http2)


@lru_cache(maxsize=256)
def collector_cluster(found: Collector) -> envoy_cluster.Cluster:
    """Kuma ``ProvidedEndpointCluster`` + ``DefaultTimeout`` (+ ``Http2`` for OTLP/gRPC),
    ``meshtrace:<provider>``; built once per collector and shared (messages are not edited
    after the compile). MeshCircuitBreaker (Kuma order 1300, after MeshTrace's 700) makes
    every cluster of the proxy track remaining capacity, this one too (``finish``)."""
    name = names.tracing_cluster(found.provider)
    # Kuma resolves a host name with AUTO on an IPv6 Dataplane; the proxy-wide state carries
    # no address family yet (as for MeshAccessLog's collectors): V4_ONLY
    parts = cluster_builders.provided_endpoint_cluster(
        name, found.host, found.port, ipv6=False, http2=found.http2
    )
    return cluster_builders.finish(parts)


def http_uri(resolved: Mapping[str, Any]) -> str:
    """Kuma's OTLP/HTTP URI: ``http(s)://host:port`` and the base path (``/`` when unset)
    joined with ``v1/traces`` as Go's ``path.Join`` does (HTTPS for port 443)."""
    host, port = str(resolved["address"]), int(resolved["port"])
    scheme = "https" if port == otel_backend.DEFAULT_HTTPS_PORT else "http"
    joined = f"[{host}]" if ":" in host else host
    base = str(resolved.get("path") or "/")
    parts = [p for p in f"{base}/{TRACES_SUFFIX}".split("/") if p and p != "."]
    return f"{scheme}://{joined}:{port}/{'/'.join(parts)}"


def _pack(message: Message, name: str) -> envoy_http_tracer.Tracing.Http:
    provider = envoy_http_tracer.Tracing.Http(name=name)
    provider.typed_config.Pack(message, deterministic=True)
    return provider


def _tags(conf: Merged, mesh: str, workload: str) -> list[envoy_custom_tag.CustomTag]:
    out: list[envoy_custom_tag.CustomTag] = []
    raw = conf.get("tags")
    for tag in raw if isinstance(raw, list) else ():
        tag = mapping(tag)
        custom = envoy_custom_tag.CustomTag(tag=str(tag.get("name", "")))
        header = tag.get("header")
        if isinstance(header, Mapping):
            custom.request_header.name = str(header.get("name", ""))
            custom.request_header.default_value = str(header.get("default", ""))
        else:
            custom.literal.value = str(tag.get("literal") or "")
        out.append(custom)
    for key, value in (("kuma.mesh", mesh), ("kuma.workload", workload)):
        if value and not any(t.tag == key for t in out):
            out.append(envoy_custom_tag.CustomTag(tag=key, literal={"value": value}))
    return out


def _zipkin(found: Mapping[str, Any]) -> envoy_zipkin.ZipkinConfig:
    url = str(found.get("url", ""))
    parsed = parse_request_uri(url)
    if parsed is None:
        raise CompileError(f"MeshTrace: invalid URL of Zipkin {url!r}")
    config = envoy_zipkin.ZipkinConfig(
        collector_cluster=names.tracing_cluster(ZIPKIN),
        collector_endpoint=parsed.path,
        trace_id_128bit=found.get("traceId128bit") is True,
        collector_hostname=parsed.host,
    )
    if found.get("apiVersion") == "httpProto":
        config.collector_endpoint_version = envoy_zipkin.ZipkinConfig.HTTP_PROTO
    else:
        config.collector_endpoint_version = envoy_zipkin.ZipkinConfig.HTTP_JSON
    config.shared_span_context.value = found.get("sharedSpanContext", True) is not False
    return config


def _datadog_service(found: Mapping[str, Any], service: str, direction: str, dest: str) -> str:
    if found.get("splitService") is not True:
        return service
    if direction == "INBOUND":
        return f"{service}_INBOUND"
    return f"{service}_OUTBOUND_{dest}"


def _otel(conf: Merged, service: str) -> envoy_otel.OpenTelemetryConfig | None:
    resolved = conf.get(RESOLVED)
    if not isinstance(resolved, Mapping):
        return None  # a backendRef no MeshOpenTelemetryBackend matches: Kuma skips it
    cluster = names.tracing_cluster(OTEL)
    config = envoy_otel.OpenTelemetryConfig(service_name=service)
    if resolved.get("protocol") == otel_backend.HTTP:
        uri = config.http_service.http_uri
        uri.uri = http_uri(resolved)
        uri.cluster = cluster
        set_duration(uri.timeout, OTEL_HTTP_TIMEOUT_S)
    else:
        config.grpc_service.envoy_grpc.cluster_name = cluster
    return config


def configure(
    hcm: envoy_hcm.HttpConnectionManager,
    conf: Merged,
    *,
    mesh: str,
    source: Source | None,
    direction: str,
    destination: str,
) -> None:
    """Kuma ``Configurer.Configure`` on one HTTP connection manager."""
    found = backend(conf)
    if not found:
        return
    service = identifying_name(source)
    tracing = hcm.tracing
    tracing.spawn_upstream_span.value = False
    sampling = mapping(conf.get("sampling"))
    for name, field in (
        ("overall", tracing.overall_sampling),
        ("client", tracing.client_sampling),
        ("random", tracing.random_sampling),
    ):
        if sampling.get(name) is not None:
            field.CopyFrom(percent(sampling[name]))
    tracing.custom_tags.extend(_tags(conf, mesh, workload_kri(mesh, source)))
    zipkin, datadog = found.get("zipkin"), found.get("datadog")
    if isinstance(zipkin, Mapping):
        tracing.provider.CopyFrom(_pack(_zipkin(zipkin), TRACERS[ZIPKIN]))
    if isinstance(datadog, Mapping):
        config = envoy_datadog.DatadogConfig(
            collector_cluster=names.tracing_cluster(DATADOG),
            service_name=_datadog_service(datadog, service, direction, destination),
        )
        tracing.provider.CopyFrom(_pack(config, TRACERS[DATADOG]))
    if isinstance(found.get("openTelemetry"), Mapping):
        otel = _otel(conf, service)
        if otel is not None:
            tracing.provider.CopyFrom(_pack(otel, TRACERS[OTEL]))


class MeshTrace(PolicyBase):
    kind = "MeshTrace"
    sections = frozenset({Section.DEFAULT})
    hooks = frozenset({Hook.OUTBOUND_LISTENER, Hook.INBOUND_LISTENER})
    per_proxy = True
    proxy_wide = True

    def resolve(self, conf: Merged, index: MeshIndex) -> Merged:
        otel = backend(conf).get("openTelemetry")
        if not isinstance(otel, Mapping):
            return conf
        found = otel_backend.resolve(otel, index.resources.get(otel_backend.KIND, ()), index.name)
        out = {**conf.conf, RESOLVED: asdict(found) if found is not None else None}
        return Merged(out, conf.origins, conf.contributions, canonical(out))

    def outbound_listener(self, parts: ListenerParts, conf: Merged, ctx: OutboundContext) -> None:
        if parts.hcm is not None:
            configure(
                parts.hcm,
                conf,
                mesh=ctx.mesh,
                source=ctx.source,
                direction="OUTBOUND",
                destination=ctx.service,
            )

    def inbound_listener(self, parts: ListenerParts, conf: Merged, ctx: InboundContext) -> None:
        if parts.hcm is not None:
            configure(
                parts.hcm,
                conf,
                mesh=ctx.mesh,
                source=ctx.proxy,
                direction="INBOUND",
                destination="",
            )

    def proxy_state(
        self, confs: Sequence[Merged], resources: Mapping[str, Sequence[Resource]]
    ) -> Hashable:
        """The collector of the proxy-wide conf (the one conf of a ``default`` kind)."""
        return collector(confs[0]) if confs else None

    def proxy_clusters(self, state: Hashable) -> list[envoy_cluster.Cluster]:
        return [collector_cluster(state)] if isinstance(state, Collector) else []

    def source_key(self, conf: Merged, source: Source | None) -> Hashable:
        return identifying_name(source), source.label(WORKLOAD_LABEL) if source else ""

    def skips(self, policy: Resource) -> tuple[Skip, ...]:
        found = backend(mapping(policy.spec.get("default")))
        zipkin = mapping(found.get("zipkin"))
        url = zipkin.get("url")
        if isinstance(url, str) and url.startswith("https:"):
            path = (*policy.spec_path, "default", "backends", 0, "zipkin", "url")
            cluster = names.tracing_cluster(ZIPKIN)
            return (Skip(policy, path, HTTPS_NOTE.format(cluster=cluster)),)
        return ()

    def mesh_skips(self, policy: Resource, index: MeshIndex) -> tuple[Skip, ...]:
        otel = backend(mapping(policy.spec.get("default"))).get("openTelemetry")
        if not isinstance(otel, Mapping):
            return ()
        path = (*policy.spec_path, "default", "backends", 0, "openTelemetry")
        resolved = otel_backend.resolve(
            otel, index.resources.get(otel_backend.KIND, ()), index.name
        )
        ref = otel.get("backendRef")
        if resolved is None and isinstance(ref, Mapping):
            labels = mapping(ref.get("labels"))
            shown = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))
            message = DANGLING_NOTE.format(mesh=index.name, labels=shown)
            return (Skip(policy, (*path, "backendRef"), message),)
        if resolved is not None and resolved.use_https:
            cluster = names.tracing_cluster(OTEL)
            message = OTLP_HTTPS_NOTE.format(name=resolved.name, cluster=cluster)
            return (Skip(policy, path, message),)
        return ()


PLUGIN = MeshTrace()
