"""Inbound ``rules[]`` with ``spiffeID`` matches: per-peer copies of the inbound routes.

Kuma 2.14 ``meshtimeout/plugin/xds/configurer.go`` (``ListenerConfigurer``,
``ConfigureMatchedRoutesOnFilterChain``, ``ConfigureMatchedRoutes``,
``effectiveMatchedRouteRules``, ``ensureMatchFilterStateFilter``) and
``core/rules/inbound`` (``BuildRules``: one rule per match, ``SortRules``):

* the inbound conf of such a kind is ``{..catch-all conf.., matchedRules: [{match, default}],
  skipCommon: true?}``: the catch-all conf merges the rules without matches (and ``from[]``
  entries); ``matchedRules`` lists each ``(match, default)`` in Kuma's rule order;
  ``skipCommon`` is set when no rule is a catch-all (Kuma's ``SkipCommonConfig``: then the
  listener, route and cluster keep their timeouts untouched);
* the rules considered have a ``spiffeID`` and set what the kind puts on routes; they are
  sorted most specific first (Exact before Prefix, then the longer prefix); each distinct
  match gets the merge, least specific first, of every such rule whose match covers it (an
  Exact equal value, or a Prefix of the value);
* every route of the inline route config is preceded by one copy per effective rule, whose
  ``match.filter_state`` requires ``kuma.mesh_timeout.match.spiffe_id`` to equal (or start
  with) the value, with the rule's values set on the route action;
* a ``envoy.filters.network.set_filter_state`` filter first in the chain fills that key from
  ``%DOWNSTREAM_PEER_URI_SAN%`` once the downstream TLS handshake completes
  (``on_downstream_tls_handshake``, Envoy >= 1.37; also ``kuma.mesh_timeout.match.sni`` from
  ``%REQUESTED_SERVER_NAME%`` when a rule has an SNI match). Without mesh mTLS the key is
  never set and the copies never match, as in Kuma.

The Python protos this project builds with (xds-protos) predate
``on_downstream_tls_handshake``: its entries are encoded by hand as field 2 (the number in
Envoy 1.40's own descriptors). ``render`` cannot decode that field and shows the filter's
config without it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from envoy.config.listener.v3 import listener_components_pb2 as envoy_listener_components
from envoy.config.route.v3 import route_components_pb2 as envoy_route
from envoy.config.route.v3 import route_pb2 as envoy_route_config
from envoy.extensions.filters.common.set_filter_state.v3 import value_pb2 as envoy_filter_state
from envoy.extensions.filters.network.set_filter_state.v3 import (
    set_filter_state_pb2 as envoy_set_filter_state,
)
from envoy.type.matcher.v3 import filter_state_pb2 as envoy_filter_state_matcher
from envoy.type.matcher.v3 import string_pb2 as envoy_string

from reconciler.compile.merge import merge_plain

MATCHED_RULES = "matchedRules"
SKIP_COMMON = "skipCommon"
SET_FILTER_STATE = "envoy.filters.network.set_filter_state"
SET_FILTER_STATE_TYPE = f"type.googleapis.com/{envoy_set_filter_state.Config.DESCRIPTOR.full_name}"
"""The filter's type (its module imported so ``render`` can resolve the ``Any``)."""
ON_DOWNSTREAM_TLS_HANDSHAKE = 2
TIMEOUT_KEYS = ("kuma.mesh_timeout.match.spiffe_id", "kuma.mesh_timeout.match.sni")
RATE_LIMIT_KEYS = ("kuma.mesh_rate_limit.match.spiffe_id", "kuma.mesh_rate_limit.match.sni")
"""The filter-state keys (peer URI SAN, SNI) of each kind's ``configurer.go``."""

Rule = tuple[Mapping[str, Any], Mapping[str, Any]]
"""``(match, default)``."""


def rules_of(conf: Any) -> list[Rule]:
    value = conf.get(MATCHED_RULES) if isinstance(conf, Mapping) else None
    out: list[Rule] = []
    for item in value if isinstance(value, list) else ():
        match, default = item.get("match"), item.get("default")
        if isinstance(match, Mapping) and isinstance(default, Mapping):
            out.append((match, default))
    return out


def _spiffe(match: Mapping[str, Any]) -> Mapping[str, Any] | None:
    value = match.get("spiffeID")
    return value if isinstance(value, Mapping) else None


def _score(match: Mapping[str, Any]) -> int:
    spiffe = _spiffe(match)
    return {"Exact": 2, "Prefix": 1}.get(str(spiffe.get("type")), 0) if spiffe else 0


def _prefix_len(match: Mapping[str, Any]) -> int:
    spiffe = _spiffe(match)
    return len(str(spiffe.get("value", ""))) if spiffe and spiffe.get("type") == "Prefix" else 0


def _specificity(match: Mapping[str, Any]) -> tuple[int, int, int]:
    """Sort key, most specific first: ``CompareByMatch`` (spiffeID type, SNI present), then
    the longer prefix (``compareMatchedRouteSpecificity``)."""
    return (-_score(match), 0 if match.get("sni") is not None else 1, -_prefix_len(match))


def _covers(candidate: Mapping[str, Any], target: Mapping[str, Any]) -> bool:
    """Kuma ``matchedRouteSubsumes``."""
    c, t = _spiffe(candidate), _spiffe(target)
    if c is None or t is None:
        return False
    if c.get("type") == "Exact":
        spiffe_ok = t.get("type") == "Exact" and c.get("value") == t.get("value")
    elif c.get("type") == "Prefix":
        spiffe_ok = str(t.get("value", "")).startswith(str(c.get("value", "")))
    else:
        spiffe_ok = False
    c_sni, t_sni = candidate.get("sni"), target.get("sni")
    sni_ok = c_sni is None or (t_sni is not None and c_sni == t_sni)
    return spiffe_ok and sni_ok


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return _spiffe(a) == _spiffe(b) and a.get("sni") == b.get("sni")


def matched(rules: Sequence[Rule], wanted: Callable[[Mapping[str, Any]], bool]) -> list[Rule]:
    """Kuma ``matchedRouteTimeoutRules``: rules with a spiffeID whose default sets something
    the kind puts on routes (``wanted``), most specific first."""
    return sorted(
        (r for r in rules if _spiffe(r[0]) is not None and wanted(r[1])),
        key=lambda r: _specificity(r[0]),
    )


def effective_rules(
    matched: Sequence[Rule], base: Mapping[str, Any] | None = None
) -> list[tuple[Mapping[str, Any], dict[str, Any]]]:
    """Kuma ``effectiveMatchedRouteRules`` over :func:`matched` rules; ``base`` (MeshRateLimit:
    the catch-all conf, when it limits HTTP) is merged first."""
    out: list[tuple[Mapping[str, Any], dict[str, Any]]] = []
    for match, _ in matched:
        if any(_same(m, match) for m, _ in out):
            continue
        # least specific first; equal ones keep their order (a stable sort, as Kuma's)
        applicable = sorted(
            (r for r in matched if _covers(r[0], match)),
            key=lambda r: tuple(-x for x in _specificity(r[0])),
        )
        confs = [base] if base is not None else []
        out.append((match, merge_plain([*confs, *(d for _, d in applicable)])))
    return out


def _string_matcher(spiffe: Mapping[str, Any]) -> envoy_string.StringMatcher:
    value = str(spiffe.get("value", ""))
    if spiffe.get("type") == "Prefix":
        return envoy_string.StringMatcher(prefix=value)
    return envoy_string.StringMatcher(exact=value)


def _route_matchers(
    match: Mapping[str, Any], keys: tuple[str, str]
) -> list[envoy_filter_state_matcher.FilterStateMatcher]:
    out = []
    spiffe = _spiffe(match)
    if spiffe is not None:
        out.append(
            envoy_filter_state_matcher.FilterStateMatcher(
                key=keys[0], string_match=_string_matcher(spiffe)
            )
        )
    sni = match.get("sni")
    if isinstance(sni, Mapping):
        out.append(
            envoy_filter_state_matcher.FilterStateMatcher(
                key=keys[1],
                string_match=envoy_string.StringMatcher(exact=str(sni.get("value", ""))),
            )
        )
    return out


def _routes_to_a_cluster(route: envoy_route.Route) -> bool:
    """Kuma ``matchedRouteSupportsTimeouts``."""
    if not route.HasField("route"):
        return False
    action = route.route
    which = action.WhichOneof("cluster_specifier")
    if which == "cluster":
        return bool(action.cluster)
    if which == "cluster_header":
        return bool(action.cluster_header)
    if which == "weighted_clusters":
        clusters = action.weighted_clusters.clusters
        return bool(clusters) and all(c.name or c.cluster_header for c in clusters)
    return False


def duplicate_routes(
    config: envoy_route_config.RouteConfiguration,
    effective: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
    configure: Callable[[envoy_route.Route, Mapping[str, Any]], None],
    keys: tuple[str, str],
) -> None:
    """Kuma ``ConfigureMatchedRoutes``: before each route, one copy per effective rule with
    the rule's filter-state matchers and ``configure(route_action, rule conf)`` applied."""
    for vhost in config.virtual_hosts:
        original = list(vhost.routes)
        routes: list[envoy_route.Route] = []
        for route in original:
            for match, conf in effective:
                if not route.HasField("match") or not _routes_to_a_cluster(route):
                    continue
                clone = envoy_route.Route()
                clone.CopyFrom(route)
                clone.match.filter_state.extend(_route_matchers(match, keys))
                configure(clone, conf)
                routes.append(clone)
            routes.append(route)
        del vhost.routes[:]
        vhost.routes.extend(routes)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _value(key: str, format_string: str) -> bytes:
    value = envoy_filter_state.FilterStateValue(
        object_key=key, factory_key="envoy.string", read_only=True, skip_if_empty=True
    )
    value.format_string.text_format_source.inline_string = format_string
    data: bytes = value.SerializeToString(deterministic=True)
    return data


def filter_state_values(payload: bytes) -> list[bytes]:
    """The ``on_downstream_tls_handshake`` values of a payload built here."""
    out, at = [], 0
    while at < len(payload):
        at += 1  # the tag: always field 2, length-delimited (one byte)
        size, shift = 0, 0
        while True:
            byte = payload[at]
            at += 1
            size |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        out.append(payload[at : at + size])
        at += size
    return out


def ensure_filter_state(
    filters: list[envoy_listener_components.Filter],
    rules: Sequence[Rule],
    keys: tuple[str, str],
    *,
    extend: bool,
) -> None:
    """Kuma ``ensureMatchFilterStateFilter``: a ``set_filter_state`` filter first in the
    chain with the peer URI SAN (and the SNI when a rule matches it) under ``keys``. When
    the chain has one already, MeshTimeout leaves it as it is (``extend=False``) and
    MeshRateLimit adds its missing values (``appendMissingFilterStateValues``)."""
    values = []
    if any(_spiffe(m) is not None for m, _ in rules):
        values.append(_value(keys[0], "%DOWNSTREAM_PEER_URI_SAN%"))
    if any(m.get("sni") is not None for m, _ in rules):
        values.append(_value(keys[1], "%REQUESTED_SERVER_NAME%"))
    existing = next((f for f in filters if f.name == SET_FILTER_STATE), None)
    if existing is not None:
        if extend:
            present = filter_state_values(existing.typed_config.value)
            known = {_key_of(v) for v in present}
            added = [v for v in values if _key_of(v) not in known]
            existing.typed_config.value = _payload([*present, *added])
        return
    if not values:
        return
    out = envoy_listener_components.Filter(name=SET_FILTER_STATE)
    out.typed_config.type_url = SET_FILTER_STATE_TYPE
    out.typed_config.value = _payload(values)
    filters.insert(0, out)


def _key_of(value: bytes) -> str:
    parsed = envoy_filter_state.FilterStateValue()
    parsed.ParseFromString(value)
    return str(parsed.object_key)


def _payload(values: Sequence[bytes]) -> bytes:
    tag = _varint(ON_DOWNSTREAM_TLS_HANDSHAKE << 3 | 2)
    return b"".join(tag + _varint(len(v)) + v for v in values)


def sort_key(match: Mapping[str, Any]) -> tuple[int, int]:
    """Kuma ``inbound.SortRules`` (``CompareMatch``): spiffeID Exact, Prefix, none; then SNI."""
    return (-_score(match) if _spiffe(match) else 1, 0 if match.get("sni") is not None else 1)
