"""OpenTelemetry backend: Envoy's OTLP/gRPC access logger and its collector clusters
(Kuma 2.14 ``meshaccesslog/plugin/xds/configurer.go`` ``BaseAccessLogBuilder``,
``OtelBody``, ``OtelAttributes``, ``OtelResourceAttributes``; ``clusters.go``).

* ``envoy.access_loggers.open_telemetry``: ``common_config`` (log name ``MeshAccessLog``,
  V3, Envoy gRPC to the collector cluster); ``body`` = ``body`` read as an OTLP ``AnyValue``
  in its JSON form with placeholders replaced in every string and key, or, when it is not
  one, its JSON text as a string (Kuma's fallback: a YAML string keeps its quotes), or the
  listener's default format without ``\\n``; ``attributes`` = one string value per entry
  (key and value with placeholders); ``resource_attributes`` = ``kuma.mesh``, then
  ``kuma.zone`` and ``kuma.workload`` when known.
* Collector clusters: one per distinct collector (address, port, HTTP/2) of the proxy,
  numbered in the order its listeners first use them (inbounds, then outbounds, backends
  in order): ``meshaccesslog:opentelemetry:<n>`` (Kuma's name without unified resource
  naming). STATIC for an IP, STRICT_DNS (``V4_ONLY``; ``AUTO`` on an IPv6 proxy) for a
  hostname, connect timeout 5 s, HTTP/2 unless the backend's protocol is ``http``.
* A backend whose ``openTelemetry`` block names no collector (a ``backendRef`` selecting no
  MeshOpenTelemetryBackend, an empty block) is dropped, whatever its type, as Kuma's
  ``ResolveBackends`` does.
* A ``backendRef`` to an ``http`` MeshOpenTelemetryBackend gets Kuma's cluster without
  HTTP/2 and a warning: Envoy's logger exports over gRPC only (Kuma relays through kuma-dp).
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from envoy.config.accesslog.v3 import accesslog_pb2 as envoy_access_log
from envoy.config.cluster.v3 import cluster_pb2 as envoy_cluster
from envoy.config.core.v3 import config_source_pb2 as envoy_config_source
from envoy.extensions.access_loggers.open_telemetry.v3 import (
    logs_service_pb2 as envoy_otel_access_log,
)
from google.protobuf import json_format
from opentelemetry.proto.common.v1 import common_pb2 as otlp_common

from reconciler.compile.builders import clusters as cluster_builders
from reconciler.compile.external import is_hostname
from reconciler.compile.merge import Merged, mapping
from reconciler.compile.otel_backend import HTTP, resolve
from reconciler.compile.trace import Skip
from reconciler.errors import CompileError
from reconciler.kinds.mesh_access_log.plugin.formats import KumaValues
from reconciler.model import Resource

OTEL_LOGGER = "envoy.access_loggers.open_telemetry"
LOG_NAME = "MeshAccessLog"
CLUSTER_PREFIX = "meshaccesslog:opentelemetry:"


@dataclass(frozen=True, slots=True)
class Collector:
    """Kuma's ``LoggingEndpoint`` (direct export: no kuma-dp socket)."""

    address: str
    port: int
    http2: bool


@dataclass(frozen=True, slots=True)
class Collectors:
    """A proxy's collectors in Kuma's numbering, and how each written backend resolved."""

    ordered: tuple[Collector, ...]
    resolved: tuple[tuple[str, Collector], ...]
    """(canonical JSON of an ``openTelemetry`` block, its collector)."""
    ipv6: bool = False
    skipped: tuple[Skip, ...] = ()
    """Backends that get a cluster but cannot work (OTLP/HTTP collectors)."""
    dangling: tuple[str, ...] = ()
    """Keys of ``openTelemetry`` blocks (of any backend type) that name no collector."""

    def dropped(self, block: Mapping[str, Any]) -> bool:
        """True when the ``openTelemetry`` block names no collector (its backend is dropped)."""
        return backend_key(block) in self.dangling

    def cluster_of(self, backend: Mapping[str, Any]) -> str | None:
        key = backend_key(backend)
        found = next((c for k, c in self.resolved if k == key), None)
        return None if found is None else cluster_name(self.ordered.index(found))


def backend_key(otel: Mapping[str, Any]) -> str:
    where = {k: otel.get(k) for k in ("endpoint", "backendRef") if otel.get(k) is not None}
    return json.dumps(where, sort_keys=True, separators=(",", ":"))


def cluster_name(index: int) -> str:
    return f"{CLUSTER_PREFIX}{index}"


def otel_blocks(conf_backends: object) -> list[Mapping[str, Any]]:
    """The ``openTelemetry`` blocks of a backends list, in order."""
    out = []
    for backend in conf_backends if isinstance(conf_backends, list) else ():
        if mapping(backend).get("type") == "OpenTelemetry":
            out.append(mapping(mapping(backend).get("openTelemetry")))
    return out


HTTP_NOTE = (
    "OpenTelemetry backend: MeshOpenTelemetryBackend {name} uses protocol http; Envoy's "
    "OpenTelemetry access logger exports over gRPC only (Kuma 2.14 relays OTLP/HTTP through "
    "kuma-dp), so its records do not reach the collector"
)


def number(
    confs: Sequence[Merged], resources: Mapping[str, Sequence[Resource]], ipv6: bool
) -> Collectors | None:
    """Kuma's ``EndpointAccumulator`` over the proxy's listeners' backends, in order."""
    ordered: list[Collector] = []
    resolved: dict[str, Collector] = {}
    skipped: dict[Skip, None] = {}
    motbs = resources.get("MeshOpenTelemetryBackend", ())
    dangling: set[str] = set()
    for conf in confs:
        backends = conf.get("backends")
        origins = conf.origin("backends")
        for j, backend in enumerate(backends if isinstance(backends, list) else ()):
            block = mapping(backend).get("openTelemetry")
            if not isinstance(block, Mapping):
                continue
            key = backend_key(block)
            # Kuma's ResolveBackends resolves an openTelemetry block whatever the backend's
            # type, and drops the backend when it names no collector
            found = resolve(block, motbs)
            if found is None:
                dangling.add(key)
                continue
            if mapping(backend).get("type") != "OpenTelemetry":
                continue
            if found.protocol == HTTP and origins:
                where = (*origins[-1].path, j, "openTelemetry", "backendRef")
                skip = Skip(origins[-1].resource, where, HTTP_NOTE.format(name=found.name))
                skipped[skip] = None
            resolved[key] = Collector(found.address, found.port, found.protocol != HTTP)
            if resolved[key] not in ordered:
                ordered.append(resolved[key])
    if not ordered and not dangling:
        return None
    return Collectors(
        tuple(ordered),
        tuple(sorted(resolved.items())),
        ipv6,
        tuple(skipped),
        tuple(sorted(dangling)),
    )


def clusters(state: Hashable) -> list[envoy_cluster.Cluster]:
    if not isinstance(state, Collectors):
        return []
    out = []
    for i, collector in enumerate(state.ordered):
        name = cluster_name(i)
        parts = cluster_builders.static_cluster(
            name, collector.address, collector.port, http2=collector.http2
        )
        if is_hostname(collector.address):
            parts.cluster.type = envoy_cluster.Cluster.STRICT_DNS
            parts.cluster.dns_lookup_family = (
                envoy_cluster.Cluster.AUTO if state.ipv6 else envoy_cluster.Cluster.V4_ONLY
            )
        out.append(cluster_builders.finish(parts))
    return out


def _interpolate(value: otlp_common.AnyValue, values: KumaValues) -> None:
    kind = value.WhichOneof("value")
    if kind not in (None, "string_value", "array_value", "kvlist_value"):
        # Kuma passes them on and Envoy NACKs the listener; refuse the proxy with the reason
        raise CompileError(
            f"access log body: {kind} is not supported by Envoy's OpenTelemetry access "
            "logger (only string values, key-value lists and arrays)"
        )
    if kind == "string_value":
        value.string_value = values.substitute(value.string_value)
    elif kind == "array_value":
        for item in value.array_value.values:
            _interpolate(item, values)
    elif kind == "kvlist_value":
        for pair in value.kvlist_value.values:
            _interpolate(pair.value, values)
            pair.key = values.substitute(pair.key)


def body(raw: object, default: str, values: KumaValues) -> otlp_common.AnyValue:
    out = otlp_common.AnyValue(string_value=values.substitute(default))
    if raw is None:
        return out
    text = json.dumps(raw, separators=(",", ":"), ensure_ascii=False)
    parsed = otlp_common.AnyValue()
    try:
        json_format.Parse(text, parsed)
    except json_format.ParseError:
        return otlp_common.AnyValue(string_value=values.substitute(text))
    _interpolate(parsed, values)
    return parsed


def _string_pair(key: str, value: str) -> otlp_common.KeyValue:
    return otlp_common.KeyValue(key=key, value=otlp_common.AnyValue(string_value=value))


def access_log(
    otel: Mapping[str, Any], cluster: str, default: str, values: KumaValues
) -> envoy_access_log.AccessLog:
    config = envoy_otel_access_log.OpenTelemetryAccessLogConfig()
    common = config.common_config
    common.log_name = LOG_NAME
    common.transport_api_version = envoy_config_source.ApiVersion.V3
    common.grpc_service.envoy_grpc.cluster_name = cluster
    config.body.CopyFrom(body(otel.get("body"), default, values))
    attributes = otel.get("attributes")
    for entry in attributes if isinstance(attributes, list) else ():
        entry = mapping(entry)
        config.attributes.values.append(
            _string_pair(
                values.substitute(str(entry.get("key", ""))),
                values.substitute(str(entry.get("value", ""))),
            )
        )
    config.attributes.SetInParent()
    resource = config.resource_attributes
    resource.values.append(_string_pair("kuma.mesh", values.mesh))
    if values.zone:
        resource.values.append(_string_pair("kuma.zone", values.zone))
    if values.workload:
        resource.values.append(_string_pair("kuma.workload", values.workload))
    entry_out = envoy_access_log.AccessLog(name=OTEL_LOGGER)
    entry_out.typed_config.Pack(config, deterministic=True)
    return entry_out
