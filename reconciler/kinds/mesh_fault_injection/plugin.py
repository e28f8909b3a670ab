"""MeshFaultInjection: ``envoy.filters.http.fault`` filters on HTTP inbounds.

Kuma 2.14 (``pkg/plugins/policies/meshfaultinjection/plugin/xds/configurer.go``): each entry
of the merged ``http[]`` becomes its own fault filter, in order, before the router:

* ``abort`` -> ``abort.http_status`` + ``abort.percentage``;
* ``delay`` -> ``delay.fixed_delay`` (value) + ``delay.percentage``;
* ``responseBandwidth`` -> ``response_rate_limit.fixed_limit.limit_kbps`` (``limit`` in
  kbps, Mbps or Gbps: x1, x1000, x1000000) + ``response_rate_limit.percentage``.

Percentages are Kuma int-or-string numbers (``20``, ``"20.5"``) converted by Kuma's
``ConvertPercentage`` (:func:`decimals.fractional_percent`). A ``from[]`` entry with
``kind: Mesh`` applies to every caller, so the filter has no ``x-kuma-tags`` header match;
entries selecting a peer need the caller's identity and are reported as skipped by the
core. TCP inbounds are left alone (fault injection is HTTP only). ``to[]`` applies to
gateways, which are not compiled.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from envoy.extensions.filters.http.fault.v3 import fault_pb2 as envoy_fault
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as envoy_hcm,
)

from reconciler.compile.builders.values import conf_seconds, set_duration
from reconciler.compile.context import Hook, InboundContext, ListenerParts, Section
from reconciler.compile.decimals import fractional_percent
from reconciler.compile.merge import Merged
from reconciler.compile.plugin import PolicyBase
from reconciler.errors import CompileError
from reconciler.model import Kind

FAULT_FILTER = "envoy.filters.http.fault"
BANDWIDTH = re.compile(r"^(\d*)\s?([GMk]+bps)$")
KBPS_FACTOR = {"kbps": 1, "Mbps": 1000, "Gbps": 1_000_000}


def bandwidth_kbps(limit: str) -> int:
    """Kuma ``ConvertBandwidthToKbps``: ``"100kbps"`` -> 100, ``"1Mbps"`` -> 1000."""
    match = BANDWIDTH.match(limit)
    if match is None or not match.group(1) or match.group(2) not in KBPS_FACTOR:
        raise CompileError(
            f"responseBandwidth.limit {limit!r}: expected a number of kbps/Mbps/Gbps"
        )
    return int(match.group(1)) * KBPS_FACTOR[match.group(2)]


def http_fault(conf: Mapping[str, Any]) -> envoy_fault.HTTPFault:
    fault = envoy_fault.HTTPFault()
    delay = conf.get("delay")
    if isinstance(delay, Mapping):
        seconds = conf_seconds(delay.get("value"))
        set_duration(fault.delay.fixed_delay, 0.0 if seconds is None else seconds)
        fault.delay.percentage.CopyFrom(fractional_percent(delay.get("percentage", 0)))
    abort = conf.get("abort")
    if isinstance(abort, Mapping):
        fault.abort.http_status = int(abort.get("httpStatus", 0))
        fault.abort.percentage.CopyFrom(fractional_percent(abort.get("percentage", 0)))
    bandwidth = conf.get("responseBandwidth")
    if isinstance(bandwidth, Mapping):
        limit = fault.response_rate_limit
        limit.fixed_limit.limit_kbps = bandwidth_kbps(str(bandwidth.get("limit", "")))
        limit.percentage.CopyFrom(fractional_percent(bandwidth.get("percentage", 0)))
    return fault


def fault_filters(entries: Any) -> list[envoy_hcm.HttpFilter]:
    out: list[envoy_hcm.HttpFilter] = []
    for entry in entries if isinstance(entries, list) else ():
        if isinstance(entry, Mapping):
            http_filter = envoy_hcm.HttpFilter(name=FAULT_FILTER)
            http_filter.typed_config.Pack(http_fault(entry), deterministic=True)
            out.append(http_filter)
    return out


class MeshFaultInjection(PolicyBase):
    kind = Kind.MESH_FAULT_INJECTION
    sections = frozenset({Section.FROM, Section.RULES})
    hooks = frozenset({Hook.INBOUND_LISTENER})

    def inbound_listener(self, parts: ListenerParts, conf: Merged, ctx: InboundContext) -> None:
        if parts.hcm is None:
            return
        parts.http_filters.extend(fault_filters(conf.get("http")))


PLUGIN = MeshFaultInjection()
