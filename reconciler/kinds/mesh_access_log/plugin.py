"""MeshAccessLog: access logs on outbound (``to[]``) and inbound (``from[]``) listeners.

Kuma 2.14 (``pkg/plugins/policies/meshaccesslog/plugin/v1alpha1/plugin.go`` and
``plugin/xds/configurer.go``): one ``envoy.access_loggers.file`` entry per backend, in order,
appended to the HCM's ``access_log`` (HTTP) or the ``tcp_proxy``'s (TCP):

* File backend: ``path``; format ``Plain`` -> ``log_format.text_format_source.inline_string``
  (the format, or Kuma's default for the listener's protocol, plus ``\\n``); ``Json`` ->
  ``log_format.json_format`` (one string field per entry); ``omitEmptyValues`` ->
  ``log_format.omit_empty_values``.
* Tcp backend: Kuma writes to the unix socket ``/tmp/kuma-al-<dataplane>-<mesh>.sock``
  where kuma-dp relays each line to ``address``; the log is JSON
  ``{address, message}`` (message = the plain line, or the JSON fields). The same
  configuration is produced here; without kuma-dp nothing relays the lines (render notes
  say so).
* OpenTelemetry backend: not compiled (render notes say so).

Kuma placeholders are substituted at compile time (Envoy rejects unknown command
operators): ``%KUMA_MESH%``, ``%KUMA_SOURCE_SERVICE%``, ``%KUMA_DESTINATION_SERVICE%``,
``%KUMA_SOURCE_ADDRESS%`` (``<ip>:0``), ``%KUMA_SOURCE_ADDRESS_WITHOUT_PORT%``,
``%KUMA_TRAFFIC_DIRECTION%``. Outbound: source = the proxy's identifying service (its first
inbound's) and address, destination = the outbound's service, direction OUTBOUND.
Inbound: source ``unknown``, address = the proxy's address, destination = the proxy's
identifying service, direction INBOUND.

The output names the proxy, so the plugin is ``per_proxy``: an outbound listener it
configures is shared only by proxies equal in what the formats use (:meth:`source_key`:
the source service and address for the default formats or their placeholders, the
Dataplane name for Tcp backends).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from envoy.config.accesslog.v3 import accesslog_pb2 as envoy_access_log
from envoy.config.core.v3 import substitution_format_string_pb2 as envoy_format
from envoy.extensions.access_loggers.file.v3 import file_pb2 as envoy_file_access_log

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
from reconciler.errors import CompileError
from reconciler.model import Kind, Resource

FILE_LOGGER = "envoy.access_loggers.file"
UNKNOWN_SERVICE = "unknown"
DEFAULT_TCP_FORMAT = (
    "[%START_TIME%] %RESPONSE_FLAGS% %KUMA_MESH% "
    "%KUMA_SOURCE_ADDRESS_WITHOUT_PORT%(%KUMA_SOURCE_SERVICE%)->%UPSTREAM_HOST%"
    "(%KUMA_DESTINATION_SERVICE%) took %DURATION%ms, sent %BYTES_SENT% bytes, "
    "received: %BYTES_RECEIVED% bytes"
)
DEFAULT_HTTP_FORMAT = (
    '[%START_TIME%] %KUMA_MESH% "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" '
    "%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
    '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" '
    '"%REQ(X-B3-TRACEID?X-DATADOG-TRACEID)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" '
    '"%KUMA_SOURCE_SERVICE%" "%KUMA_DESTINATION_SERVICE%" "%KUMA_SOURCE_ADDRESS_WITHOUT_PORT%" '
    '"%UPSTREAM_HOST%"'
)
PLACEHOLDER = re.compile(r"%(KUMA_[A-Z_]+)%")
TCP_NOTE = (
    "Tcp backend: Envoy writes JSON lines to {path} as Kuma configures it; Kuma's kuma-dp "
    "relays them to the address, and no such relay runs here"
)
OTEL_NOTE = "OpenTelemetry backend is not compiled; this backend has no effect"


@dataclass(frozen=True, slots=True)
class KumaValues:
    """What the Kuma placeholders stand for on one listener."""

    mesh: str
    source_service: str
    source_address: str
    destination_service: str
    direction: str
    dataplane: str

    def substitute(self, text: str) -> str:
        values = {
            "KUMA_MESH": self.mesh,
            "KUMA_SOURCE_SERVICE": self.source_service,
            "KUMA_DESTINATION_SERVICE": self.destination_service,
            "KUMA_SOURCE_ADDRESS": f"{self.source_address}:0",
            "KUMA_SOURCE_ADDRESS_WITHOUT_PORT": self.source_address,
            "KUMA_TRAFFIC_DIRECTION": self.direction,
        }

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in values:
                known = ", ".join(f"%{k}%" for k in values)
                raise CompileError(f"access log format: unknown placeholder %{name}% ({known})")
            return values[name]

        return PLACEHOLDER.sub(replace, text)


def socket_path(dataplane: str, mesh: str) -> str:
    """Kuma ``AccessLogSocketName``: where kuma-dp listens for Tcp backend lines."""
    return f"/tmp/kuma-al-{dataplane}-{mesh}.sock"


def _log_format(
    backend_type: str, conf: Mapping[str, Any], default: str, values: KumaValues
) -> envoy_format.SubstitutionFormatString:
    out = envoy_format.SubstitutionFormatString()
    fmt = mapping(conf.get("format"))
    entries = fmt.get("json")
    if isinstance(entries, list) and entries:
        fields = {
            str(e.get("key")): values.substitute(str(e.get("value", "")))
            for e in entries
            if isinstance(e, Mapping)
        }
        if backend_type == "Tcp":
            out.json_format.update({"address": str(conf.get("address", "")), "message": fields})
        else:
            out.json_format.update(fields)
    else:
        line = values.substitute(str(fmt.get("plain") or default) + "\n")
        if backend_type == "Tcp":
            out.json_format.update({"address": str(conf.get("address", "")), "message": line})
        else:
            out.text_format_source.inline_string = line
    if fmt.get("omitEmptyValues") is True:
        out.omit_empty_values = True
    return out


def access_logs(conf: Merged, default: str, values: KumaValues) -> list[envoy_access_log.AccessLog]:
    out: list[envoy_access_log.AccessLog] = []
    for backend in conf.get("backends") or ():
        if not isinstance(backend, Mapping):
            continue
        kind = backend.get("type")
        if kind == "File":
            file_conf = mapping(backend.get("file"))
            path = str(file_conf.get("path", ""))
        elif kind == "Tcp":
            file_conf = mapping(backend.get("tcp"))
            path = socket_path(values.dataplane, values.mesh)
        else:
            continue
        config = envoy_file_access_log.FileAccessLog(path=path)
        config.log_format.CopyFrom(_log_format(str(kind), file_conf, default, values))
        entry = envoy_access_log.AccessLog(name=FILE_LOGGER)
        entry.typed_config.Pack(config, deterministic=True)
        out.append(entry)
    return out


def _attach(parts: ListenerParts, conf: Merged, values: KumaValues) -> None:
    if parts.hcm is not None:
        parts.hcm.access_log.extend(access_logs(conf, DEFAULT_HTTP_FORMAT, values))
    elif parts.tcp_proxy is not None:
        parts.tcp_proxy.access_log.extend(access_logs(conf, DEFAULT_TCP_FORMAT, values))


def _source_fields(conf: Merged) -> frozenset[str]:
    """Which source fields the outbound log lines of ``conf`` contain."""
    used: set[str] = set()
    for backend in conf.get("backends") or ():
        kind = mapping(backend).get("type")
        if kind not in ("File", "Tcp"):
            continue
        section = mapping(mapping(backend).get("file" if kind == "File" else "tcp"))
        fmt = mapping(section.get("format"))
        entries = fmt.get("json")
        if isinstance(entries, list) and entries:
            text = " ".join(str(mapping(e).get("value", "")) for e in entries)
        else:
            text = str(fmt.get("plain") or DEFAULT_HTTP_FORMAT + DEFAULT_TCP_FORMAT)
        if "%KUMA_SOURCE_SERVICE%" in text:
            used.add("service")
        if "%KUMA_SOURCE_ADDRESS" in text:
            used.add("address")
        if kind == "Tcp":
            used.add("dataplane")
    return frozenset(used)


def _source(source: Source | None) -> Source:
    return source if source is not None else Source("", "", "")


class MeshAccessLog(PolicyBase):
    kind = Kind.MESH_ACCESS_LOG
    sections = frozenset({Section.TO, Section.FROM, Section.RULES})
    hooks = frozenset({Hook.OUTBOUND_LISTENER, Hook.INBOUND_LISTENER})
    per_proxy = True

    def outbound_listener(self, parts: ListenerParts, conf: Merged, ctx: OutboundContext) -> None:
        source = _source(ctx.source)
        values = KumaValues(
            ctx.mesh, source.service, source.address, ctx.service, "OUTBOUND", source.dataplane
        )
        _attach(parts, conf, values)

    def inbound_listener(self, parts: ListenerParts, conf: Merged, ctx: InboundContext) -> None:
        proxy = _source(ctx.proxy)
        values = KumaValues(
            ctx.mesh, UNKNOWN_SERVICE, proxy.address, proxy.service, "INBOUND", proxy.dataplane
        )
        _attach(parts, conf, values)

    def source_key(self, conf: Merged, source: Source | None) -> Hashable:
        used = _source_fields(conf)
        found = _source(source)
        return (
            found.service if "service" in used else None,
            found.address if "address" in used else None,
            found.dataplane if "dataplane" in used else None,
        )

    def skips(self, policy: Resource) -> tuple[Skip, ...]:
        out: list[Skip] = []
        for section in ("to", "from", "rules"):
            entries = policy.spec.get(section)
            for i, entry in enumerate(entries if isinstance(entries, list) else []):
                backends = mapping(mapping(entry).get("default")).get("backends")
                for j, backend in enumerate(backends if isinstance(backends, list) else []):
                    path = (*policy.spec_path, section, i, "default", "backends", j)
                    kind = mapping(backend).get("type")
                    if kind == "OpenTelemetry":
                        out.append(Skip(policy, path, OTEL_NOTE))
                    elif kind == "Tcp":
                        where = socket_path("<dataplane>", policy.mesh or "default")
                        out.append(Skip(policy, path, TCP_NOTE.format(path=where)))
        return tuple(out)


PLUGIN = MeshAccessLog()
