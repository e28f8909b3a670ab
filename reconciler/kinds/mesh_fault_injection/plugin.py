"""MeshFaultInjection: ``envoy.filters.http.fault`` filters on HTTP inbounds.

Kuma 2.14 (``pkg/plugins/policies/meshfaultinjection/plugin/xds/configurer.go``): each entry
of the merged ``http[]`` becomes its own fault filter, in order, before the router:

* ``abort`` -> ``abort.http_status`` + ``abort.percentage``;
* ``delay`` -> ``delay.fixed_delay`` (value) + ``delay.percentage``;
* ``responseBandwidth`` -> ``response_rate_limit.fixed_limit.limit_kbps`` (``limit`` in
  kbps, Mbps or Gbps: x1, x1000, x1000000) + ``response_rate_limit.percentage``.

Percentages are Kuma int-or-string numbers (``20``, ``"20.5"``) converted by Kuma's
``ConvertPercentage`` (:func:`decimals.fractional_percent`). A ``from[]`` entry with
``kind: Mesh`` applies to every caller, so the filter has no header match. Entries naming
clients (``MeshService``, ``MeshSubset``, ``MeshServiceSubset``) follow Kuma's legacy path
(``plugin.go`` ``configure`` + ``legacy_configurer.go``): the core cuts them into subset
rules (:mod:`reconciler.compile.subsets`), most positive tags first, and each rule's faults
become filters with ``headers`` matching the ``x-kuma-tags`` header the clients' sidecars
send (:mod:`reconciler.compile.kuma_tags`): one regex matcher for the positive tags, one
inverted for the negated ones. TCP inbounds are left alone (fault injection is HTTP only).
``to[]`` applies to gateways, which are not compiled.

When a policy selecting the inbound has ``rules[]`` (Kuma's ``InboundRules``; ``from[]`` is
then ignored), Kuma's ``Configurer`` applies: each rule (one per match, its own ``default``,
not merged) gives per fault a filter named by the policy's KRI (``kri_mfi_<mesh>___<name>_``)
whose config is an ``ExtensionWithMatcher`` around the fault: a ``spiffeID`` match skips the
filter (``SkipFilter``) for peers whose certificate URI SAN does not match it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from envoy.config.route.v3 import route_components_pb2 as envoy_route
from envoy.extensions.common.matching.v3 import extension_matcher_pb2 as envoy_extension_matcher
from envoy.extensions.filters.http.fault.v3 import fault_pb2 as envoy_fault
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as envoy_hcm,
)

from reconciler.compile import kuma_tags
from reconciler.compile.builders import peer_matchers
from reconciler.compile.builders.values import conf_seconds, set_duration
from reconciler.compile.context import Hook, InboundContext, ListenerParts, Section
from reconciler.compile.decimals import fractional_percent
from reconciler.compile.merge import Merged, mapping
from reconciler.compile.plugin import PolicyBase
from reconciler.compile.subsets import INBOUND_RULES, SUBSET_RULES
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


def subset_headers(subset: Any) -> list[envoy_route.HeaderMatcher]:
    """Kuma ``createHeaders``: the positive tags in one ``x-kuma-tags`` regex, the negated
    ones in another with ``invert_match`` (one value kept per key, the last one)."""
    positive: dict[str, str] = {}
    negated: dict[str, str] = {}
    for key, value, is_negated in subset if isinstance(subset, list) else ():
        (negated if is_negated else positive)[str(key)] = str(value)
    out = []
    if positive:
        out.append(kuma_tags.header_matcher(positive, invert=False))
    if negated:
        out.append(kuma_tags.header_matcher(negated, invert=True))
    return out


def fault_filters(entries: Any, subset: Any = None) -> list[envoy_hcm.HttpFilter]:
    headers = subset_headers(subset)
    out: list[envoy_hcm.HttpFilter] = []
    for entry in entries if isinstance(entries, list) else ():
        if isinstance(entry, Mapping):
            fault = http_fault(entry)
            fault.headers.extend(headers)
            http_filter = envoy_hcm.HttpFilter(name=FAULT_FILTER)
            http_filter.typed_config.Pack(fault, deterministic=True)
            out.append(http_filter)
    return out


def matched_fault_filters(rule: Mapping[str, Any]) -> list[envoy_hcm.HttpFilter]:
    """Kuma ``Configurer.addFaultFilters``: per fault of the rule, a filter named by the
    policy's KRI wrapping ``envoy.filters.http.fault`` in an ``ExtensionWithMatcher`` that
    skips it for peers the rule's match does not name (no match: it always runs)."""
    match = rule.get("match")
    matcher = peer_matchers.skip_unless([match] if isinstance(match, Mapping) else [])
    out: list[envoy_hcm.HttpFilter] = []
    faults = mapping(rule.get("default")).get("http")
    for entry in faults if isinstance(faults, list) else ():
        if not isinstance(entry, Mapping):
            continue
        wrapped = envoy_extension_matcher.ExtensionWithMatcher()
        wrapped.xds_matcher.CopyFrom(matcher)
        wrapped.extension_config.name = FAULT_FILTER
        wrapped.extension_config.typed_config.Pack(http_fault(entry), deterministic=True)
        http_filter = envoy_hcm.HttpFilter(name=str(rule.get("kri", "")))
        http_filter.typed_config.Pack(wrapped, deterministic=True)
        out.append(http_filter)
    return out


class MeshFaultInjection(PolicyBase):
    kind = Kind.MESH_FAULT_INJECTION
    sections = frozenset({Section.FROM, Section.RULES})
    hooks = frozenset({Hook.INBOUND_LISTENER})
    peer_rules = True

    def inbound_listener(self, parts: ListenerParts, conf: Merged, ctx: InboundContext) -> None:
        if parts.hcm is None:
            return
        inbound_rules = conf.get(INBOUND_RULES)
        if isinstance(inbound_rules, list):
            for rule in inbound_rules:
                parts.http_filters.extend(matched_fault_filters(mapping(rule)))
            return
        rules = conf.get(SUBSET_RULES)
        if not isinstance(rules, list):
            parts.http_filters.extend(fault_filters(conf.get("http")))
            return
        for rule in rules:
            default = mapping(mapping(rule).get("default"))
            parts.http_filters.extend(
                fault_filters(default.get("http"), mapping(rule).get("subset"))
            )


PLUGIN = MeshFaultInjection()
