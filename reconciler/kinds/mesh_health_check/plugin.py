"""MeshHealthCheck: active health checks on outbound clusters.

Kuma 2.14 (``pkg/plugins/policies/meshhealthcheck/plugin/xds/configurer.go``):

* the checker follows the upstream service's protocol: ``http``/``http2`` use ``http`` when
  configured and not disabled, ``grpc`` uses ``grpc``, ``tcp`` uses ``tcp``; when the
  protocol's checker is disabled and ``tcp`` is configured (not disabled), ``tcp`` is the
  fallback. Nothing matching: no health check (the other fields still apply);
* defaults: interval 1m, timeout 15s, unhealthyThreshold 5, healthyThreshold 1, path ``/``;
* initialJitter, intervalJitter, intervalJitterPercent, noTrafficInterval, reuseConnection,
  alwaysLogHealthCheckFailures as set; eventLogPath -> an
  ``envoy.health_check.event_sinks.file`` event logger;
* http: ``expected_statuses`` [status, status+1) ranges, ``codec_client_type`` HTTP2 for
  http2 services, ``request_headers_to_add`` from ``add`` (append, each comma-separated value
  its own header) then ``set`` (overwrite);
* tcp: ``send``/``receive`` strings are sent as Envoy hex payloads of their bytes (Kuma
  hex-encodes the text as written);
* grpc: ``service_name``, ``authority``;
* healthyPanicThreshold -> ``common_lb_config.healthy_panic_threshold``; failTrafficOnPanic
  -> ``common_lb_config.zone_aware_lb_config.fail_traffic_on_panic``.

* HTTP checks first send ``x-kuma-tags`` with the calling proxy's tags
  (``&tag=v1,v2&&tag2=v&``, Kuma ``tags.Serialize``), so the kind is ``per_proxy``: its
  clusters are shared only by callers with the same tags.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from envoy.config.core.v3 import base_pb2 as envoy_base
from envoy.config.core.v3 import health_check_pb2 as envoy_health_check
from envoy.extensions.health_check.event_sinks.file.v3 import file_pb2 as envoy_event_file
from envoy.type.v3 import http_pb2 as envoy_http

from reconciler.compile import kuma_tags
from reconciler.compile.builders.values import conf_seconds, set_duration
from reconciler.compile.context import ClusterContext, ClusterParts, Hook, Section, TagSet
from reconciler.compile.decimals import percent
from reconciler.compile.merge import Merged, mapping
from reconciler.compile.plugin import PolicyBase
from reconciler.model import Kind

DEFAULT_INTERVAL_S = 60.0
DEFAULT_TIMEOUT_S = 15.0
DEFAULT_UNHEALTHY_THRESHOLD = 5
DEFAULT_HEALTHY_THRESHOLD = 1
DEFAULT_HTTP_PATH = "/"
EVENT_SINK = "envoy.health_check.event_sinks.file"


def _enabled(conf: Any) -> bool:
    return isinstance(conf, Mapping) and conf.get("disabled") is not True


def _disabled(conf: Any) -> bool:
    return isinstance(conf, Mapping) and conf.get("disabled") is True


def checker_type(protocol: str, conf: Merged) -> str | None:
    """Kuma ``selectHealthCheckType``: ``http``, ``grpc``, ``tcp`` or None."""
    http, grpc, tcp = conf.get("http"), conf.get("grpc"), conf.get("tcp")
    if protocol in ("http", "http2") and _enabled(http):
        return "http"
    if protocol == "grpc" and _enabled(grpc):
        return "grpc"
    if protocol == "tcp" and _enabled(tcp):
        return "tcp"
    if protocol in ("http", "http2") and _disabled(http) and _enabled(tcp):
        return "tcp"
    if protocol == "grpc" and _disabled(grpc) and _enabled(tcp):
        return "tcp"
    return None


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _duration_field(target: Any, value: Any) -> None:
    seconds = conf_seconds(value)
    if seconds is not None:
        set_duration(target, seconds)


def base_check(conf: Merged) -> envoy_health_check.HealthCheck:
    check = envoy_health_check.HealthCheck()
    interval = conf_seconds(conf.get("interval"))
    timeout = conf_seconds(conf.get("timeout"))
    set_duration(check.interval, DEFAULT_INTERVAL_S if interval is None else interval)
    set_duration(check.timeout, DEFAULT_TIMEOUT_S if timeout is None else timeout)
    check.unhealthy_threshold.value = _int(
        conf.get("unhealthyThreshold"), DEFAULT_UNHEALTHY_THRESHOLD
    )
    check.healthy_threshold.value = _int(conf.get("healthyThreshold"), DEFAULT_HEALTHY_THRESHOLD)
    _duration_field(check.initial_jitter, conf.get("initialJitter"))
    _duration_field(check.interval_jitter, conf.get("intervalJitter"))
    if isinstance(conf.get("intervalJitterPercent"), int):
        check.interval_jitter_percent = conf.get("intervalJitterPercent")
    path = conf.get("eventLogPath")
    if isinstance(path, str):
        sink = check.event_logger.add(name=EVENT_SINK)
        sink.typed_config.Pack(
            envoy_event_file.HealthCheckEventFileSink(event_log_path=path), deterministic=True
        )
    if isinstance(conf.get("alwaysLogHealthCheckFailures"), bool):
        check.always_log_health_check_failures = conf.get("alwaysLogHealthCheckFailures")
    _duration_field(check.no_traffic_interval, conf.get("noTrafficInterval"))
    if isinstance(conf.get("reuseConnection"), bool):
        check.reuse_connection.value = conf.get("reuseConnection")
    return check


def _headers(modifier: Mapping[str, Any], tags: TagSet) -> list[envoy_base.HeaderValueOption]:
    out: list[envoy_base.HeaderValueOption] = []
    if tags:
        out.append(kuma_tags.header_option(tags))
    actions = (
        ("add", envoy_base.HeaderValueOption.APPEND_IF_EXISTS_OR_ADD),
        ("set", envoy_base.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD),
    )
    for field, action in actions:
        for header in modifier.get(field) or ():
            for value in str(header.get("value", "")).split(","):
                option = envoy_base.HeaderValueOption(append_action=action)
                option.header.key = str(header.get("name"))
                option.header.value = value
                out.append(option)
    return out


def http_check(
    check: envoy_health_check.HealthCheck, conf: Mapping[str, Any], protocol: str, tags: TagSet
) -> None:
    http = check.http_health_check
    http.path = str(conf.get("path") or DEFAULT_HTTP_PATH)
    http.request_headers_to_add.extend(_headers(mapping(conf.get("requestHeadersToAdd")), tags))
    for status in conf.get("expectedStatuses") or ():
        http.expected_statuses.add(start=int(status), end=int(status) + 1)
    http.codec_client_type = envoy_http.HTTP2 if protocol == "http2" else envoy_http.HTTP1


def tcp_check(check: envoy_health_check.HealthCheck, conf: Mapping[str, Any]) -> None:
    tcp = check.tcp_health_check
    tcp.SetInParent()
    send = conf.get("send")
    if isinstance(send, str):
        tcp.send.text = send.encode().hex()
    for block in conf.get("receive") or ():
        tcp.receive.add(text=str(block).encode().hex())


def grpc_check(check: envoy_health_check.HealthCheck, conf: Mapping[str, Any]) -> None:
    grpc = check.grpc_health_check
    grpc.SetInParent()
    grpc.service_name = str(conf.get("serviceName") or "")
    grpc.authority = str(conf.get("authority") or "")


class MeshHealthCheck(PolicyBase):
    kind = Kind.MESH_HEALTH_CHECK
    sections = frozenset({Section.TO})
    hooks = frozenset({Hook.OUTBOUND_CLUSTER})
    per_proxy = True

    def outbound_cluster(self, parts: ClusterParts, conf: Merged, ctx: ClusterContext) -> None:
        cluster = parts.cluster
        threshold = conf.get("healthyPanicThreshold")
        if threshold is not None:
            cluster.common_lb_config.healthy_panic_threshold.CopyFrom(percent(threshold))
        if isinstance(conf.get("failTrafficOnPanic"), bool):
            zone_aware = cluster.common_lb_config.zone_aware_lb_config
            zone_aware.fail_traffic_on_panic = conf.get("failTrafficOnPanic")
            zone_aware.SetInParent()
        kind = checker_type(ctx.protocol, conf)
        if kind is None:
            return
        check = base_check(conf)
        if kind == "http":
            http_check(check, mapping(conf.get("http")), ctx.protocol, ctx.source_tags)
        elif kind == "grpc":
            grpc_check(check, mapping(conf.get("grpc")))
        else:
            tcp_check(check, mapping(conf.get("tcp")))
        cluster.health_checks.append(check)


PLUGIN = MeshHealthCheck()
