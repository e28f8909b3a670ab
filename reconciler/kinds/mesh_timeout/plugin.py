"""MeshTimeout: connect, idle, request, stream-idle and stream-duration timeouts.

Kuma 2.14 (``pkg/plugins/policies/meshtimeout/plugin/xds/configurer.go``), each unset value
taking Kuma's plugin default:

* cluster: ``connect_timeout`` = connectionTimeout (5s); for http/http2 upstreams the
  ``HttpProtocolOptions.common_http_protocol_options`` get ``idle_timeout`` = idleTimeout (1h),
  ``max_stream_duration`` = http.maxStreamDuration (0s) and ``max_connection_duration`` =
  http.maxConnectionDuration (0s);
* HTTP listener: HCM ``request_headers_timeout`` = http.requestHeadersTimeout (0s) and the
  HCM's own ``common_http_protocol_options.idle_timeout`` = 0s (MeshTimeout sets idle on the
  cluster); the HCM's ``stream_idle_timeout`` is left alone;
* TCP listener: ``tcp_proxy.idle_timeout`` = idleTimeout (1h);
* every route (``ConfigureRouteAction``): ``timeout`` = http.requestTimeout (15s) and
  ``idle_timeout`` = http.streamIdleTimeout (30m).

Inbound (``from[]``/``rules[]``) uses the same mapping on the inbound listener, its inline
route and the local application cluster. When a MeshTimeout selects the proxy but none of
its ``from``/``rules`` apply to an inbound (a ``to``-only policy), Kuma still configures that
inbound with the defaults above (``applyToInbounds`` with no inbound rules). ``rules[]``
with ``spiffeID`` matches copy the inbound routes per peer (:mod:`reconciler.compile.
matched_routes`); with no catch-all rule the common values above are not set at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from envoy.config.route.v3 import route_components_pb2 as envoy_route

from reconciler.compile import matched_routes
from reconciler.compile.builders.values import conf_seconds, set_duration
from reconciler.compile.context import (
    ClusterContext,
    ClusterParts,
    Hook,
    InboundContext,
    ListenerParts,
    OutboundContext,
    Section,
)
from reconciler.compile.merge import Merged
from reconciler.compile.plugin import PolicyBase
from reconciler.model import Kind

CONNECT_TIMEOUT_S = 5.0
IDLE_TIMEOUT_S = 3600.0
REQUEST_TIMEOUT_S = 15.0
STREAM_IDLE_TIMEOUT_S = 1800.0
MAX_STREAM_DURATION_S = 0.0
MAX_CONNECTION_DURATION_S = 0.0
REQUEST_HEADERS_TIMEOUT_S = 0.0


def _seconds(conf: Merged, default: float, *path: str) -> float:
    value = conf_seconds(conf.get(*path))
    return default if value is None else value


def _sets_route_values(default: Mapping[str, Any]) -> bool:
    http = default.get("http")
    return isinstance(http, Mapping) and (
        http.get("requestTimeout") is not None or http.get("streamIdleTimeout") is not None
    )


def _matched_action(route: envoy_route.Route, conf: Mapping[str, Any]) -> None:
    """Kuma ``ConfigureMatchedRouteAction``: only the values the rule sets."""
    action = route.route
    raw = conf.get("http")
    http: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    for field, name in (("timeout", "requestTimeout"), ("idle_timeout", "streamIdleTimeout")):
        seconds = conf_seconds(http.get(name))
        if seconds is not None:
            set_duration(getattr(action, field), seconds)


class MeshTimeout(PolicyBase):
    kind = Kind.MESH_TIMEOUT
    sections = frozenset({Section.TO, Section.FROM, Section.RULES})
    inbound_defaults = True
    matched_rules = True
    hooks = frozenset(
        {
            Hook.OUTBOUND_CLUSTER,
            Hook.OUTBOUND_LISTENER,
            Hook.OUTBOUND_ROUTE,
            Hook.INBOUND_CLUSTER,
            Hook.INBOUND_LISTENER,
            Hook.INBOUND_ROUTE,
        }
    )

    def _cluster(self, parts: ClusterParts, conf: Merged, protocol: str) -> None:
        set_duration(
            parts.cluster.connect_timeout, _seconds(conf, CONNECT_TIMEOUT_S, "connectionTimeout")
        )
        if protocol in ("http", "http2"):
            common = parts.http().common_http_protocol_options
            set_duration(common.idle_timeout, _seconds(conf, IDLE_TIMEOUT_S, "idleTimeout"))
            set_duration(
                common.max_stream_duration,
                _seconds(conf, MAX_STREAM_DURATION_S, "http", "maxStreamDuration"),
            )
            set_duration(
                common.max_connection_duration,
                _seconds(conf, MAX_CONNECTION_DURATION_S, "http", "maxConnectionDuration"),
            )

    def _listener(self, parts: ListenerParts, conf: Merged) -> None:
        if parts.hcm is not None:
            hcm = parts.hcm
            set_duration(
                hcm.request_headers_timeout,
                _seconds(conf, REQUEST_HEADERS_TIMEOUT_S, "http", "requestHeadersTimeout"),
            )
            set_duration(hcm.common_http_protocol_options.idle_timeout, 0)
        elif parts.tcp_proxy is not None:
            set_duration(
                parts.tcp_proxy.idle_timeout, _seconds(conf, IDLE_TIMEOUT_S, "idleTimeout")
            )

    def _route(self, route: envoy_route.Route, conf: Merged) -> None:
        if route.HasField("route"):
            set_duration(
                route.route.timeout, _seconds(conf, REQUEST_TIMEOUT_S, "http", "requestTimeout")
            )
            set_duration(
                route.route.idle_timeout,
                _seconds(conf, STREAM_IDLE_TIMEOUT_S, "http", "streamIdleTimeout"),
            )

    def outbound_cluster(self, parts: ClusterParts, conf: Merged, ctx: ClusterContext) -> None:
        self._cluster(parts, conf, ctx.protocol)

    def outbound_listener(self, parts: ListenerParts, conf: Merged, ctx: OutboundContext) -> None:
        self._listener(parts, conf)

    def outbound_route(self, route: envoy_route.Route, conf: Merged, ctx: OutboundContext) -> None:
        self._route(route, conf)

    def inbound_cluster(self, parts: ClusterParts, conf: Merged, ctx: InboundContext) -> None:
        if not conf.get(matched_routes.SKIP_COMMON):
            self._cluster(parts, conf, ctx.protocol)

    def inbound_listener(self, parts: ListenerParts, conf: Merged, ctx: InboundContext) -> None:
        if not conf.get(matched_routes.SKIP_COMMON):
            self._listener(parts, conf)
        matched = matched_routes.matched(matched_routes.rules_of(conf.conf), _sets_route_values)
        if matched:
            keys = matched_routes.TIMEOUT_KEYS
            matched_routes.ensure_filter_state(parts.network_filters, matched, keys, extend=False)
            if parts.hcm is not None:
                effective = matched_routes.effective_rules(matched)
                matched_routes.duplicate_routes(
                    parts.hcm.route_config, effective, _matched_action, keys
                )

    def inbound_route(self, route: envoy_route.Route, conf: Merged, ctx: InboundContext) -> None:
        if not conf.get(matched_routes.SKIP_COMMON):
            self._route(route, conf)


PLUGIN = MeshTimeout()
