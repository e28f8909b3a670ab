"""Kuma's access-log formats and placeholders (``meshaccesslog/plugin/xds/configurer.go``,
``xds/envoy/listeners/v3`` ``InterpolateKumaValues``).

Placeholders are replaced at compile time, one after the other as Kuma does
(``strings.ReplaceAll`` in this order): ``%KUMA_SOURCE_ADDRESS%`` (``ip:0``, IPv6 in
brackets), ``%KUMA_SOURCE_ADDRESS_WITHOUT_PORT%``, ``%KUMA_SOURCE_SERVICE%``,
``%KUMA_DESTINATION_SERVICE%``, ``%KUMA_MESH%``, ``%KUMA_TRAFFIC_DIRECTION%``,
``%KUMA_ZONE%`` (the Dataplane's ``kuma.io/zone`` label, empty without one) and
``%KUMA_WORKLOAD%`` (the KRI of its ``kuma.io/workload`` label, empty without one). Any
other ``%KUMA_...%`` is left for Envoy, which rejects it: it is refused here instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from envoy.config.core.v3 import substitution_format_string_pb2 as envoy_format

from reconciler.compile.merge import mapping
from reconciler.errors import CompileError

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
UNKNOWN_SERVICE = "unknown"
ZONE_LABEL = "kuma.io/zone"
WORKLOAD_LABEL = "kuma.io/workload"
NAMESPACE_LABEL = "k8s.kuma.io/namespace"
PLACEHOLDERS = (
    "%KUMA_SOURCE_ADDRESS%",
    "%KUMA_SOURCE_ADDRESS_WITHOUT_PORT%",
    "%KUMA_SOURCE_SERVICE%",
    "%KUMA_DESTINATION_SERVICE%",
    "%KUMA_MESH%",
    "%KUMA_TRAFFIC_DIRECTION%",
    "%KUMA_ZONE%",
    "%KUMA_WORKLOAD%",
)
_KUMA_OPERATOR = re.compile(r"%KUMA_[A-Z_]+%")


def workload_kri(mesh: str, zone: str, namespace: str, workload: str) -> str:
    """Kuma's ``workloadIdentity``: the KRI of the ``kuma.io/workload`` label's Workload."""
    return f"kri_wl_{mesh}_{zone}_{namespace}_{workload}_" if workload else ""


@dataclass(frozen=True, slots=True)
class KumaValues:
    """What the Kuma placeholders stand for on one listener."""

    mesh: str
    source_service: str
    source_address: str
    destination_service: str
    direction: str
    dataplane: str
    zone: str = ""
    workload: str = ""

    def substitute(self, text: str) -> str:
        host = f"[{self.source_address}]" if ":" in self.source_address else self.source_address
        values = (
            f"{host}:0",
            self.source_address,
            self.source_service,
            self.destination_service,
            self.mesh,
            self.direction,
            self.zone,
            self.workload,
        )
        for placeholder, value in zip(PLACEHOLDERS, values, strict=True):
            text = text.replace(placeholder, value)
        left = _KUMA_OPERATOR.search(text)
        if left is not None:
            known = ", ".join(PLACEHOLDERS)
            raise CompileError(
                f"access log format: unknown placeholder {left.group(0)} (Kuma knows {known}); "
                "Envoy would reject the listener"
            )
        return text


def _json_fields(entries: Sequence[Any], values: KumaValues) -> dict[str, str]:
    return {
        str(e.get("key")): values.substitute(str(e.get("value", "")))
        for e in entries
        if isinstance(e, Mapping)
    }


def file_format(
    conf: Mapping[str, Any], default: str, values: KumaValues
) -> envoy_format.SubstitutionFormatString:
    """Kuma ``FileBackendSFS``: a plain line (format or default, plus ``\\n``) or JSON fields."""
    out = envoy_format.SubstitutionFormatString()
    fmt = mapping(conf.get("format"))
    entries = fmt.get("json")
    if isinstance(entries, list) and entries:
        out.json_format.update(_json_fields(entries, values))
    else:
        out.text_format_source.inline_string = values.substitute(
            str(fmt.get("plain") or default) + "\n"
        )
    if fmt.get("omitEmptyValues") is True:
        out.omit_empty_values = True
    return out


def tcp_format(
    conf: Mapping[str, Any], default: str, values: KumaValues
) -> envoy_format.SubstitutionFormatString:
    """Kuma ``TCPBackendSFS``: JSON ``{address, message}``, the message being the plain line
    (with ``\\n``) or the JSON fields; what kuma-dp (here: ``reconciler agent``) relays."""
    out = envoy_format.SubstitutionFormatString()
    fmt = mapping(conf.get("format"))
    entries = fmt.get("json")
    message: object
    if isinstance(entries, list) and entries:
        message = _json_fields(entries, values)
    else:
        message = values.substitute(str(fmt.get("plain") or default) + "\n")
    out.json_format.update({"address": str(conf.get("address", "")), "message": message})
    if fmt.get("omitEmptyValues") is True:
        out.omit_empty_values = True
    return out
