"""MeshAccessLog: access logs on outbound (``to[]``) and inbound (``from[]``) listeners.

Kuma 2.14 (``pkg/plugins/policies/meshaccesslog/plugin/v1alpha1/plugin.go`` and
``plugin/xds/configurer.go``): one entry per backend, in order, appended to the HCM's
``access_log`` (HTTP) or the ``tcp_proxy``'s (TCP):

* File backend: ``envoy.access_loggers.file`` at ``path`` (:func:`formats.file_format`).
* Tcp backend: ``envoy.access_loggers.file`` writing JSON ``{address, message}`` lines to
  the named pipe ``/tmp/kuma-al-<dataplane>-<mesh>.sock`` (Kuma's ``AccessLogSocketName``,
  cut to 100 characters before ``.sock``); kuma-dp relays each message to ``address`` over
  TCP, here ``reconciler agent`` does (``reconciler/agent/``, README "Data-plane agent").
* OpenTelemetry backend: ``envoy.access_loggers.open_telemetry`` to a collector cluster
  (:mod:`otel`).

Kuma values (:mod:`formats`): outbound: source = the proxy's identifying service (its first
inbound's) and address, destination = the outbound's service, direction OUTBOUND.
Inbound: source ``unknown``, address = the proxy's address, destination = the proxy's
identifying service, direction INBOUND. Zone and workload come from the Dataplane's labels.

The output names the proxy, so the plugin is ``per_proxy``: an outbound listener it
configures is shared only by proxies equal in what the formats use (:meth:`source_key`).
It is also ``proxy_wide``: Kuma numbers collector clusters per proxy, in the order its
listeners use them (:func:`otel.number`).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from envoy.config.accesslog.v3 import accesslog_pb2 as envoy_access_log
from envoy.config.cluster.v3 import cluster_pb2 as envoy_cluster
from envoy.extensions.access_loggers.file.v3 import file_pb2 as envoy_file_access_log

from reconciler import names
from reconciler.compile.context import (
    Hook,
    InboundContext,
    ListenerParts,
    OutboundContext,
    Section,
    Source,
)
from reconciler.compile.merge import Merged, mapping
from reconciler.compile.plugin import PolicyBase
from reconciler.compile.trace import Skip
from reconciler.kinds.mesh_access_log.plugin import otel
from reconciler.kinds.mesh_access_log.plugin.formats import (
    DEFAULT_HTTP_FORMAT,
    DEFAULT_TCP_FORMAT,
    NAMESPACE_LABEL,
    UNKNOWN_SERVICE,
    WORKLOAD_LABEL,
    ZONE_LABEL,
    KumaValues,
    file_format,
    tcp_format,
    workload_kri,
)
from reconciler.model import Kind, Resource

FILE_LOGGER = "envoy.access_loggers.file"
socket_path = names.access_log_pipe


def _file_log(path: str, log_format: Any) -> envoy_access_log.AccessLog:
    config = envoy_file_access_log.FileAccessLog(path=path)
    config.log_format.CopyFrom(log_format)
    entry = envoy_access_log.AccessLog(name=FILE_LOGGER)
    entry.typed_config.Pack(config, deterministic=True)
    return entry


def access_logs(
    conf: Merged, default: str, values: KumaValues, collectors: Hashable
) -> list[envoy_access_log.AccessLog]:
    out: list[envoy_access_log.AccessLog] = []
    for backend in conf.get("backends") or ():
        backend = mapping(backend)
        kind = backend.get("type")
        block = backend.get("openTelemetry")
        # Kuma drops any backend whose openTelemetry block names no collector
        if (
            isinstance(block, Mapping)
            and isinstance(collectors, otel.Collectors)
            and collectors.dropped(block)
        ):
            continue
        if kind == "File":
            section = mapping(backend.get("file"))
            path = str(section.get("path", ""))
            out.append(_file_log(path, file_format(section, default, values)))
        elif kind == "Tcp":
            section = mapping(backend.get("tcp"))
            path = socket_path(values.dataplane, values.mesh)
            out.append(_file_log(path, tcp_format(section, default, values)))
        elif kind == "OpenTelemetry" and isinstance(collectors, otel.Collectors):
            section = mapping(backend.get("openTelemetry"))
            cluster = collectors.cluster_of(section)
            if cluster is not None:  # Kuma drops a backendRef that names no backend
                out.append(otel.access_log(section, cluster, default, values))
    return out


def _attach(parts: ListenerParts, conf: Merged, values: KumaValues, source: Source) -> None:
    collectors = source.state_of(Kind.MESH_ACCESS_LOG)
    if parts.hcm is not None:
        parts.hcm.access_log.extend(access_logs(conf, DEFAULT_HTTP_FORMAT, values, collectors))
    elif parts.tcp_proxy is not None:
        parts.tcp_proxy.access_log.extend(access_logs(conf, DEFAULT_TCP_FORMAT, values, collectors))


def _values(
    mesh: str, source: Source, src: str, address: str, dst: str, direction: str
) -> KumaValues:
    zone = source.label(ZONE_LABEL)
    workload = workload_kri(mesh, zone, source.label(NAMESPACE_LABEL), source.label(WORKLOAD_LABEL))
    return KumaValues(mesh, src, address, dst, direction, source.dataplane, zone, workload)


def _texts(backend: Mapping[str, Any]) -> str:
    """Every text of a backend that placeholders may appear in (formats, body, attributes)."""
    kind = backend.get("type")
    if kind == "OpenTelemetry":
        section = mapping(backend.get("openTelemetry"))
        return f"{section.get('body')} {section.get('attributes')}" + (
            "" if section.get("body") is not None else DEFAULT_HTTP_FORMAT + DEFAULT_TCP_FORMAT
        )
    section = mapping(backend.get("file" if kind == "File" else "tcp"))
    fmt = mapping(section.get("format"))
    entries = fmt.get("json")
    if isinstance(entries, list) and entries:
        return " ".join(str(mapping(e).get("value", "")) for e in entries)
    return str(fmt.get("plain") or DEFAULT_HTTP_FORMAT + DEFAULT_TCP_FORMAT)


def _source(source: Source | None) -> Source:
    return source if source is not None else Source("", "", "")


class MeshAccessLog(PolicyBase):
    kind = Kind.MESH_ACCESS_LOG
    sections = frozenset({Section.TO, Section.FROM, Section.RULES})
    hooks = frozenset({Hook.OUTBOUND_LISTENER, Hook.INBOUND_LISTENER})
    per_proxy = True
    proxy_wide = True

    def outbound_listener(self, parts: ListenerParts, conf: Merged, ctx: OutboundContext) -> None:
        source = _source(ctx.source)
        values = _values(ctx.mesh, source, source.service, source.address, ctx.service, "OUTBOUND")
        _attach(parts, conf, values, source)

    def inbound_listener(self, parts: ListenerParts, conf: Merged, ctx: InboundContext) -> None:
        proxy = _source(ctx.proxy)
        values = _values(ctx.mesh, proxy, UNKNOWN_SERVICE, proxy.address, proxy.service, "INBOUND")
        _attach(parts, conf, values, proxy)

    def proxy_state(
        self, confs: Sequence[Merged], resources: Mapping[str, Sequence[Resource]]
    ) -> Hashable:
        return otel.number(confs, resources, ipv6=False)

    def proxy_clusters(self, state: Hashable) -> list[envoy_cluster.Cluster]:
        return otel.clusters(state)

    def proxy_skips(self, state: Hashable) -> tuple[Skip, ...]:
        return state.skipped if isinstance(state, otel.Collectors) else ()

    def source_key(self, conf: Merged, source: Source | None) -> Hashable:
        """The parts of the proxy's identity the outbound listener's logs contain."""
        found = _source(source)
        backends = [mapping(b) for b in conf.get("backends") or ()]
        text = " ".join(_texts(b) for b in backends)
        collectors = found.state_of(Kind.MESH_ACCESS_LOG)
        clusters = (
            tuple(collectors.cluster_of(b) for b in otel.otel_blocks(conf.get("backends")))
            if isinstance(collectors, otel.Collectors)
            else ()
        )
        dropped = (
            tuple(
                collectors.dropped(mapping(b.get("openTelemetry")))
                for b in backends
                if isinstance(b.get("openTelemetry"), Mapping)
            )
            if isinstance(collectors, otel.Collectors)
            else ()
        )
        return (
            dropped,
            found.service if "%KUMA_SOURCE_SERVICE%" in text else None,
            found.address if "%KUMA_SOURCE_ADDRESS" in text else None,
            found.dataplane if any(b.get("type") == "Tcp" for b in backends) else None,
            found.labels if "%KUMA_ZONE%" in text or "%KUMA_WORKLOAD%" in text else None,
            found.labels if clusters else None,
            clusters,
        )


PLUGIN = MeshAccessLog()
