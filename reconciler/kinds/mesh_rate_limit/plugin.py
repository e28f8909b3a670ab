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

``from[]`` entries with ``kind: Mesh`` apply to every caller; peer-selecting ones need the
caller's identity (skipped by the core, with a note).
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


class MeshRateLimit(PolicyBase):
    kind = Kind.MESH_RATE_LIMIT
    sections = frozenset({Section.FROM, Section.RULES})
    hooks = frozenset({Hook.INBOUND_LISTENER, Hook.INBOUND_ROUTE})

    def inbound_route(self, route: envoy_route.Route, conf: Merged, ctx: InboundContext) -> None:
        http = conf.get("local", "http")
        if not ctx.is_http or _active(http, "requestRate") is None:
            return
        if HTTP_FILTER not in route.typed_per_filter_config:
            route.typed_per_filter_config[HTTP_FILTER].Pack(route_limit(http), deterministic=True)

    def inbound_listener(self, parts: ListenerParts, conf: Merged, ctx: InboundContext) -> None:
        if parts.hcm is not None and _active(conf.get("local", "http"), "requestRate"):
            http_filter = envoy_hcm.HttpFilter(name=HTTP_FILTER)
            http_filter.typed_config.Pack(
                envoy_local_ratelimit.LocalRateLimit(stat_prefix=HTTP_STAT_PREFIX),
                deterministic=True,
            )
            parts.http_filters.append(http_filter)
        rate = _active(conf.get("local", "tcp"), "connectionRate")
        if rate is not None:
            parts.network_filters.insert(0, tcp_filter(rate))


PLUGIN = MeshRateLimit()
