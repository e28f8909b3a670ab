"""MeshRetry: route retry policies (http, grpc) and TCP connect attempts.

Kuma 2.14 (``pkg/plugins/policies/meshretry/plugin/xds/configurer.go``):

* ``http`` services use ``to[].default.http``, ``grpc`` services ``default.grpc`` (Kuma's
  ``GetRouteRetryConfig`` gives other protocols, http2 included, no route retries); the
  retry policy goes on every route of the outbound route config; ``numRetries: 0`` means
  no retry policy at all;
* ``retryOn`` unset -> Kuma's defaults ``gateway-error,connect-failure,refused-stream``
  (http) and ``cancelled,connect-failure,gateway-error,refused-stream,reset,
  resource-exhausted,unavailable`` (grpc); HTTP status codes in ``retryOn`` become
  ``retriable_status_codes`` plus ``retriable-status-codes``; each HTTP method becomes an
  exact ``:method`` retriable request header (the conditions stay the default when only
  methods and codes are listed);
* ``backOff`` -> ``retry_back_off`` (``baseInterval`` defaults to Kuma's 25ms); ``numRetries``; ``perTryTimeout``;
  ``rateLimitedBackOff`` -> ``rate_limited_retry_back_off``; ``retriableResponseHeaders`` /
  ``retriableRequestHeaders`` -> ``retriable_headers`` / ``retriable_request_headers``;
  ``hostSelection`` -> retry host predicates (previous hosts, hosts with tags) and the
  previous-priorities retry priority; ``hostSelectionMaxAttempts``;
* ``tcp`` services: ``tcp.maxConnectAttempt`` -> ``tcp_proxy.max_connect_attempts``.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from envoy.config.route.v3 import route_components_pb2 as envoy_route
from envoy.extensions.retry.host.omit_host_metadata.v3 import (
    omit_host_metadata_config_pb2 as envoy_omit_host_metadata,
)
from envoy.extensions.retry.host.previous_hosts.v3 import (
    previous_hosts_pb2 as envoy_previous_hosts,
)
from envoy.extensions.retry.priority.previous_priorities.v3 import (
    previous_priorities_config_pb2 as envoy_previous_priorities,
)

from reconciler.compile.builders.values import conf_seconds, enum_value, set_duration
from reconciler.compile.context import Hook, ListenerParts, OutboundContext, Section
from reconciler.compile.http_routes import header_matcher
from reconciler.compile.merge import Merged, mapping
from reconciler.compile.plugin import PolicyBase
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
PREVIOUS_HOSTS = "envoy.retry_host_predicates.previous_hosts"
OMIT_HOST_METADATA = "envoy.retry_host_predicates.omit_host_metadata"
PREVIOUS_PRIORITIES = "envoy.retry_priorities.previous_priorities"
RETRIABLE_STATUS_CODES = "retriable-status-codes"


DEFAULT_BASE_INTERVAL_S = 0.025
"""Kuma's ``mesh.DefaultBaseInterval`` (25ms), used when ``backOff`` has no ``baseInterval``."""
_STATUSES = frozenset(int(status) for status in HTTPStatus)


def retry_policy(conf: Mapping[str, Any], *, grpc: bool) -> envoy_route.RetryPolicy | None:
    """Kuma's ``genHttpRetryPolicy`` / ``genGrpcRetryPolicy``; None when ``numRetries`` is 0
    (Kuma then configures no retries at all)."""
    if conf.get("numRetries") == 0:
        return None
    policy = envoy_route.RetryPolicy(
        retry_on=GRPC_RETRY_ON_DEFAULT if grpc else HTTP_RETRY_ON_DEFAULT
    )
    per_try = conf_seconds(conf.get("perTryTimeout"))
    if per_try is not None:
        set_duration(policy.per_try_timeout, per_try)
    if isinstance(conf.get("numRetries"), int):
        policy.num_retries.value = conf["numRetries"]
    back_off = conf.get("backOff")
    if isinstance(back_off, dict):
        base = conf_seconds(back_off.get("baseInterval"))
        set_duration(
            policy.retry_back_off.base_interval, DEFAULT_BASE_INTERVAL_S if base is None else base
        )
        top = conf_seconds(back_off.get("maxInterval"))
        if top is not None:
            set_duration(policy.retry_back_off.max_interval, top)
    _rate_limited_back_off(policy, mapping(conf.get("rateLimitedBackOff")))
    if grpc:
        tokens = [RETRY_ON.get(str(item), str(item)) for item in conf.get("retryOn") or ()]
        if tokens:
            policy.retry_on = ",".join(tokens)
        return policy
    conditions: list[str] = []
    for item in conf.get("retryOn") or ():
        text = str(item)
        if text.isdigit() and int(text) in _STATUSES:
            policy.retriable_status_codes.append(int(text))
        elif text.startswith("HttpMethod"):
            method = policy.retriable_request_headers.add(name=":method")
            method.string_match.exact = RETRY_ON.get(text, text.removeprefix("HttpMethod"))
        else:
            conditions.append(RETRY_ON.get(text, text))
    if conditions:
        policy.retry_on = ",".join(conditions)
    if policy.retriable_status_codes and RETRIABLE_STATUS_CODES not in policy.retry_on.split(","):
        policy.retry_on += "," + RETRIABLE_STATUS_CODES
    for h in conf.get("retriableRequestHeaders") or ():
        header_matcher(
            policy.retriable_request_headers.add(name=str(mapping(h).get("name", ""))), mapping(h)
        )
    for h in conf.get("retriableResponseHeaders") or ():
        header_matcher(
            policy.retriable_headers.add(name=str(mapping(h).get("name", ""))), mapping(h)
        )
    _host_selection(policy, conf)
    return policy


def _host_selection(policy: envoy_route.RetryPolicy, conf: Mapping[str, Any]) -> None:
    """``hostSelection`` predicates -> retry host predicates / retry priority (Kuma mapping)."""
    for item in conf.get("hostSelection") or ():
        predicate = mapping(item).get("predicate")
        if predicate == "OmitPreviousHosts":
            host = policy.retry_host_predicate.add(name=PREVIOUS_HOSTS)
            host.typed_config.Pack(
                envoy_previous_hosts.PreviousHostsPredicate(), deterministic=True
            )
        elif predicate == "OmitHostsWithTags":
            omit = envoy_omit_host_metadata.OmitHostMetadataConfig()
            tags = mapping(mapping(item).get("tags"))
            omit.metadata_match.filter_metadata["envoy.lb"].update(
                {str(k): str(v) for k, v in tags.items()}
            )
            host = policy.retry_host_predicate.add(name=OMIT_HOST_METADATA)
            host.typed_config.Pack(omit, deterministic=True)
        elif predicate == "OmitPreviousPriorities":
            frequency = mapping(item).get("updateFrequency", 2)
            config = envoy_previous_priorities.PreviousPrioritiesConfig(
                update_frequency=int(frequency)
            )
            policy.retry_priority.name = PREVIOUS_PRIORITIES
            policy.retry_priority.typed_config.Pack(config, deterministic=True)
    attempts = conf.get("hostSelectionMaxAttempts")
    if isinstance(attempts, int):
        policy.host_selection_retry_max_attempts = attempts


def _rate_limited_back_off(policy: envoy_route.RetryPolicy, conf: Mapping[str, Any]) -> None:
    headers = [mapping(h) for h in conf.get("resetHeaders") or ()]
    if not headers:
        return  # Envoy requires at least one reset header
    back_off = policy.rate_limited_retry_back_off
    for h in headers:
        fmt = "UNIX_TIMESTAMP" if h.get("format") == "UnixTimestamp" else "SECONDS"
        back_off.reset_headers.add(
            name=str(h.get("name", "")),
            format=enum_value(envoy_route.RetryPolicy.ResetHeaderFormat, fmt),
        )
    top = conf_seconds(conf.get("maxInterval"))
    if top is not None:
        set_duration(back_off.max_interval, top)


class MeshRetry(PolicyBase):
    kind = Kind.MESH_RETRY
    sections = frozenset({Section.TO})
    hooks = frozenset({Hook.OUTBOUND_LISTENER, Hook.OUTBOUND_ROUTE})

    def outbound_listener(self, parts: ListenerParts, conf: Merged, ctx: OutboundContext) -> None:
        attempts = conf.get("tcp", "maxConnectAttempt")
        if (
            parts.tcp_proxy is not None
            and ctx.protocol == "tcp"
            and isinstance(attempts, int)
            and attempts >= 1
        ):
            parts.tcp_proxy.max_connect_attempts.value = attempts

    def outbound_route(self, route: envoy_route.Route, conf: Merged, ctx: OutboundContext) -> None:
        # GetRouteRetryConfig: `http` services take default.http, `grpc` services
        # default.grpc; Kuma configures no route retries for any other protocol (http2).
        if not route.HasField("route") or ctx.protocol not in ("http", "grpc"):
            return
        grpc = ctx.protocol == "grpc"
        section = conf.get("grpc" if grpc else "http")
        policy = retry_policy(section, grpc=grpc) if isinstance(section, dict) else None
        if policy is not None:
            route.route.retry_policy.CopyFrom(policy)


PLUGIN = MeshRetry()
