"""MeshRetry: route retry policies (http, grpc) and TCP connect attempts.

Kuma 2.14 (``pkg/plugins/policies/meshretry/plugin/xds/configurer.go``):

* http/http2 services use ``to[].default.http``; grpc services use ``default.grpc``; the
  retry policy goes on every route of the outbound route config;
* ``retryOn`` unset -> Kuma's defaults ``gateway-error,connect-failure,refused-stream``
  (http) and ``cancelled,connect-failure,gateway-error,refused-stream,reset,
  resource-exhausted,unavailable`` (grpc); HTTP status codes in ``retryOn`` become
  ``retriable_status_codes`` plus ``retriable-status-codes``; HTTP methods become a
  ``:method`` retriable request header;
* ``backOff`` -> ``retry_back_off``; ``numRetries``; ``perTryTimeout``;
* tcp services: ``tcp.maxConnectAttempt`` -> ``tcp_proxy.max_connect_attempts``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from envoy.config.route.v3 import route_components_pb2 as envoy_route

from reconciler.compile.builders.values import conf_seconds, set_duration
from reconciler.compile.context import Hook, ListenerParts, OutboundContext, Section
from reconciler.compile.merge import Merged, mapping
from reconciler.compile.policies.base import PolicyBase
from reconciler.model import Kind

HTTP_RETRY_ON_DEFAULT = "gateway-error,connect-failure,refused-stream"
GRPC_RETRY_ON_DEFAULT = (
    "cancelled,connect-failure,gateway-error,refused-stream,reset,resource-exhausted,unavailable"
)
RETRY_ON = {
    "5XX": "5xx",
    "GatewayError": "gateway-error",
    "Reset": "reset",
    "Retriable4xx": "retriable-4xx",
    "ConnectFailure": "connect-failure",
    "EnvoyRatelimited": "envoy-ratelimited",
    "RefusedStream": "refused-stream",
    "Http3PostConnectFailure": "http3-post-connect-failure",
    "HttpMethodConnect": "CONNECT",
    "HttpMethodDelete": "DELETE",
    "HttpMethodGet": "GET",
    "HttpMethodHead": "HEAD",
    "HttpMethodOptions": "OPTIONS",
    "HttpMethodPatch": "PATCH",
    "HttpMethodPost": "POST",
    "HttpMethodPut": "PUT",
    "HttpMethodTrace": "TRACE",
    "Canceled": "cancelled",
    "DeadlineExceeded": "deadline-exceeded",
    "Internal": "internal",
    "ResourceExhausted": "resource-exhausted",
    "Unavailable": "unavailable",
}
_METHODS = frozenset(
    {"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"}
)


def retry_policy(conf: Mapping[str, Any], *, grpc: bool) -> envoy_route.RetryPolicy:
    policy = envoy_route.RetryPolicy()
    conditions: list[str] = []
    methods: list[str] = []
    for item in conf.get("retryOn") or ():
        text = str(item)
        if text.isdigit():
            policy.retriable_status_codes.append(int(text))
            if "retriable-status-codes" not in conditions:
                conditions.append("retriable-status-codes")
            continue
        mapped = RETRY_ON.get(text, text.lower())
        (methods if mapped in _METHODS else conditions).append(mapped)
    if conditions:
        policy.retry_on = ",".join(conditions)
    elif not methods:
        policy.retry_on = GRPC_RETRY_ON_DEFAULT if grpc else HTTP_RETRY_ON_DEFAULT
    if methods:
        header = policy.retriable_request_headers.add(name=":method")
        header.string_match.safe_regex.regex = "|".join(methods)
    if isinstance(conf.get("numRetries"), int):
        policy.num_retries.value = conf["numRetries"]
    per_try = conf_seconds(conf.get("perTryTimeout"))
    if per_try is not None:
        set_duration(policy.per_try_timeout, per_try)
    back_off = mapping(conf.get("backOff"))
    base = conf_seconds(back_off.get("baseInterval"))
    if base is not None:
        set_duration(policy.retry_back_off.base_interval, base)
        top = conf_seconds(back_off.get("maxInterval"))
        if top is not None:
            set_duration(policy.retry_back_off.max_interval, top)
    return policy


class MeshRetry(PolicyBase):
    kind = Kind.MESH_RETRY
    sections = frozenset({Section.TO})
    hooks = frozenset({Hook.OUTBOUND_LISTENER, Hook.OUTBOUND_ROUTE})

    def outbound_listener(self, parts: ListenerParts, conf: Merged, ctx: OutboundContext) -> None:
        attempts = conf.get("tcp", "maxConnectAttempt")
        if parts.tcp_proxy is not None and isinstance(attempts, int) and attempts >= 1:
            parts.tcp_proxy.max_connect_attempts.value = attempts

    def outbound_route(self, route: envoy_route.Route, conf: Merged, ctx: OutboundContext) -> None:
        if not route.HasField("route") or not ctx.is_http:
            return
        grpc = ctx.protocol == "grpc"
        section = conf.get("grpc" if grpc else "http")
        if isinstance(section, dict):
            route.route.retry_policy.CopyFrom(retry_policy(section, grpc=grpc))


PLUGIN = MeshRetry()
