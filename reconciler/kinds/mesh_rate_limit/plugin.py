"""MeshRateLimit: local (per proxy) rate limits on inbounds.

Kuma 2.14 (``pkg/plugins/policies/meshratelimit/plugin/xds/configurer.go``, goldens
``basic_listener_1``, ``basic_listener_2``, ``http_disabled``):

* ``local.http`` (not ``disabled``, with ``requestRate``) on an HTTP inbound: the HCM gets an
  ``envoy.filters.http.local_ratelimit`` filter with only ``stat_prefix: rate_limit``
  (before the router); the inbound route carries the limit in ``typed_per_filter_config``:
  token bucket ``max_tokens = tokens_per_fill = num``, ``fill_interval = interval``,
  ``filter_enabled`` / ``filter_enforced`` 100% (runtime keys ``local_rate_limit_enabled`` /
  ``local_rate_limit_enforced``), ``status`` = onRateLimit.status when set, and
  ``response_headers_to_add`` from onRateLimit.headers ``add`` (appended) then ``set``
  (overwritten, each comma-separated value its own header);
* ``local.tcp`` (not ``disabled``, with ``connectionRate``): a network filter
  ``envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit`` (Kuma's name) with
  ``stat_prefix: tcp_rate_limit`` and the token bucket, placed first in the filter chain.
  Kuma applies it to any inbound listener, HTTP ones included.

``from[]`` entries with ``kind: Mesh`` apply to every caller. ``rules[]`` with ``spiffeID``
matches copy the inbound routes per peer with their own limit (Kuma
``ConfigureMatchedRoutesOnFilterChain``, :mod:`reconciler.compile.matched_routes`); with no
catch-all rule the common filter and route limit are not set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from envoy.config.core.v3 import base_pb2 as envoy_base
from envoy.config.listener.v3 import listener_components_pb2 as envoy_listener_components
from envoy.config.route.v3 import route_components_pb2 as envoy_route
from envoy.extensions.filters.http.local_ratelimit.v3 import (
    local_rate_limit_pb2 as envoy_local_ratelimit,
)
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as envoy_hcm,
)
from envoy.extensions.filters.network.local_ratelimit.v3 import (
    local_rate_limit_pb2 as envoy_network_ratelimit,
)
from envoy.type.v3 import token_bucket_pb2 as envoy_token_bucket

from reconciler.compile import matched_routes
from reconciler.compile.builders.values import conf_seconds, set_duration
from reconciler.compile.context import Hook, InboundContext, ListenerParts, Section
from reconciler.compile.merge import Merged, mapping
from reconciler.compile.plugin import PolicyBase
from reconciler.model import Kind

HTTP_FILTER = "envoy.filters.http.local_ratelimit"
TCP_FILTER = "envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit"
HTTP_STAT_PREFIX = "rate_limit"
TCP_STAT_PREFIX = "tcp_rate_limit"
ENABLED_KEY = "local_rate_limit_enabled"
ENFORCED_KEY = "local_rate_limit_enforced"


def token_bucket(rate: Mapping[str, Any]) -> envoy_token_bucket.TokenBucket:
    num = int(rate.get("num", 0))
    bucket = envoy_token_bucket.TokenBucket(max_tokens=num)
    bucket.tokens_per_fill.value = num
    seconds = conf_seconds(rate.get("interval"))
    set_duration(bucket.fill_interval, 0.0 if seconds is None else seconds)
    return bucket


def _active(section: Any, rate_field: str) -> Mapping[str, Any] | None:
    """The rate of ``local.http`` / ``local.tcp`` when it limits anything."""
    if not isinstance(section, Mapping) or section.get("disabled") is True:
        return None
    rate = section.get(rate_field)
    return rate if isinstance(rate, Mapping) else None


def route_limit(http: Mapping[str, Any]) -> envoy_local_ratelimit.LocalRateLimit:
    """Kuma ``RateLimitConfigurationFromPolicy`` + ``NewRateLimitConfiguration``."""
    limit = envoy_local_ratelimit.LocalRateLimit(stat_prefix=HTTP_STAT_PREFIX)
    limit.token_bucket.CopyFrom(token_bucket(mapping(http.get("requestRate"))))
    for runtime, key in (
        (limit.filter_enabled, ENABLED_KEY),
        (limit.filter_enforced, ENFORCED_KEY),
    ):
        runtime.runtime_key = key
        runtime.default_value.numerator = 100
    on_limit = mapping(http.get("onRateLimit"))
    headers = mapping(on_limit.get("headers"))
    for header in headers.get("add") or ():
        option = limit.response_headers_to_add.add()
        option.header.key = str(header.get("name"))
        option.header.value = str(header.get("value", ""))
    for header in headers.get("set") or ():
        for value in str(header.get("value", "")).split(","):
            option = limit.response_headers_to_add.add(
                append_action=envoy_base.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD
            )
            option.header.key = str(header.get("name"))
            option.header.value = value
    status = on_limit.get("status")
    if isinstance(status, int) and status:
        limit.status.code = status
    return limit


def tcp_filter(rate: Mapping[str, Any]) -> envoy_listener_components.Filter:
    config = envoy_network_ratelimit.LocalRateLimit(stat_prefix=TCP_STAT_PREFIX)
    config.token_bucket.CopyFrom(token_bucket(rate))
    out = envoy_listener_components.Filter(name=TCP_FILTER)
    out.typed_config.Pack(config, deterministic=True)
    return out


_RULE_KEYS = frozenset({matched_routes.MATCHED_RULES, matched_routes.SKIP_COMMON})


def _limits_http(conf: Mapping[str, Any]) -> bool:
    """Kuma ``conf.Local != nil && conf.Local.HTTP != nil``."""
    return mapping(conf.get("local")).get("http") is not None


def _route_limit_of(conf: Mapping[str, Any]) -> envoy_local_ratelimit.LocalRateLimit | None:
    """Kuma ``routeRateLimit``: None when ``local.http`` limits nothing."""
    http = mapping(conf.get("local")).get("http")
    if not isinstance(http, Mapping) or _active(http, "requestRate") is None:
        return None
    return route_limit(http)


def _set_route_limit(route: envoy_route.Route, conf: Mapping[str, Any]) -> None:
    """Kuma ``setRateLimitOnRoute``: the copy's limit, or none."""
    limit = _route_limit_of(conf)
    if limit is None:
        route.typed_per_filter_config.pop(HTTP_FILTER, None)
    else:
        route.typed_per_filter_config[HTTP_FILTER].Pack(limit, deterministic=True)


def _http_filter() -> envoy_hcm.HttpFilter:
    http_filter = envoy_hcm.HttpFilter(name=HTTP_FILTER)
    http_filter.typed_config.Pack(
        envoy_local_ratelimit.LocalRateLimit(stat_prefix=HTTP_STAT_PREFIX), deterministic=True
    )
    return http_filter


class MeshRateLimit(PolicyBase):
    kind = Kind.MESH_RATE_LIMIT
    sections = frozenset({Section.FROM, Section.RULES})
    hooks = frozenset({Hook.INBOUND_LISTENER, Hook.INBOUND_ROUTE})
    matched_rules = True

    def inbound_route(self, route: envoy_route.Route, conf: Merged, ctx: InboundContext) -> None:
        http = conf.get("local", "http")
        if conf.get(matched_routes.SKIP_COMMON):
            return
        if not ctx.is_http or _active(http, "requestRate") is None:
            return
        if HTTP_FILTER not in route.typed_per_filter_config:
            route.typed_per_filter_config[HTTP_FILTER].Pack(route_limit(http), deterministic=True)

    def inbound_listener(self, parts: ListenerParts, conf: Merged, ctx: InboundContext) -> None:
        if not conf.get(matched_routes.SKIP_COMMON):
            if parts.hcm is not None and _active(conf.get("local", "http"), "requestRate"):
                parts.http_filters.append(_http_filter())
            rate = _active(conf.get("local", "tcp"), "connectionRate")
            if rate is not None:
                parts.network_filters.insert(0, tcp_filter(rate))
        self._matched(parts, conf)

    def _matched(self, parts: ListenerParts, conf: Merged) -> None:
        """Kuma ``ConfigureMatchedRoutesOnFilterChain``: route copies per peer, each with the
        merge of the catch-all conf (when it limits HTTP) and the rules covering the peer."""
        matched = matched_routes.matched(matched_routes.rules_of(conf.conf), _limits_http)
        if not matched:
            return
        base = {k: v for k, v in conf.conf.items() if k not in _RULE_KEYS}
        effective = matched_routes.effective_rules(matched, base if _limits_http(base) else None)
        limited = [(m, _route_limit_of(c)) for m, c in effective]
        if _route_limit_of(base) is None and all(limit is None for _, limit in limited):
            return
        keys = matched_routes.RATE_LIMIT_KEYS
        matched_routes.ensure_filter_state(
            parts.network_filters, [(m, c) for m, c in effective], keys, extend=True
        )
        if parts.hcm is None:
            return
        if any(limit is not None for _, limit in limited) and not any(
            f.name == HTTP_FILTER for f in parts.http_filters
        ):
            parts.http_filters.append(_http_filter())
        matched_routes.duplicate_routes(parts.hcm.route_config, effective, _set_route_limit, keys)


PLUGIN = MeshRateLimit()
