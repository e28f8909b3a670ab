"""MeshCircuitBreaker: connection limits and outlier detection on clusters.

Kuma 2.14 (``pkg/plugins/policies/meshcircuitbreaker/plugin/xds/configurer.go``), applied to
outbound clusters (``to[]``) and to the local application cluster of an inbound
(``from[]``/``rules[]``):

* ``connectionLimits`` -> the DEFAULT-priority ``circuit_breakers.thresholds`` entry gets
  each limit that is set (maxConnections, maxConnectionPools, maxPendingRequests,
  maxRequests, maxRetries); every cluster has that entry with ``track_remaining: true``
  (Kuma's ``applyTrackRemaining``, done by ``builders.clusters.finish``);
* ``outlierDetection`` (absent or ``disabled: true``: no ``outlier_detection``) ->
  ``interval``, ``base_ejection_time``, ``max_ejection_percent``,
  ``split_external_local_origin_errors`` (from splitExternalAndLocalErrors) and the
  detectors. A detector that is not configured gets its ``enforcing_*`` set to 0 (Envoy
  would otherwise enforce its defaults); a configured one gets 100:
  totalFailures.consecutive -> ``consecutive_5xx``, gatewayFailures.consecutive ->
  ``consecutive_gateway_failure``, localOriginFailures.consecutive ->
  ``consecutive_local_origin_failure``, successRate -> ``success_rate_*`` (standard deviation
  factor x1000) and failurePercentage -> ``failure_percentage_*``;
* ``outlierDetection.healthyPanicThreshold`` -> ``common_lb_config.healthy_panic_threshold``.

Kuma's initial ``mesh-circuit-breaker-all-<mesh>`` (``defaults.py``) sets connection limits
1024/1024/1024 and 3 retries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from envoy.config.cluster.v3 import cluster_pb2 as envoy_cluster
from envoy.config.cluster.v3 import outlier_detection_pb2 as envoy_outlier

from reconciler.compile.builders.clusters import default_threshold
from reconciler.compile.builders.values import conf_seconds, set_duration
from reconciler.compile.context import ClusterContext, ClusterParts, Hook, InboundContext, Section
from reconciler.compile.decimals import decimal, percent
from reconciler.compile.merge import Merged, mapping
from reconciler.compile.plugin import PolicyBase
from reconciler.model import Kind

LIMITS = (
    ("maxConnectionPools", "max_connection_pools"),
    ("maxConnections", "max_connections"),
    ("maxPendingRequests", "max_pending_requests"),
    ("maxRetries", "max_retries"),
    ("maxRequests", "max_requests"),
)
ENFORCED = 100
NOT_ENFORCED = 0


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def circuit_breakers(cluster: envoy_cluster.Cluster, limits: Mapping[str, Any]) -> None:
    threshold = default_threshold(cluster)
    for field, envoy_field in LIMITS:
        value = _int(limits.get(field))
        if value is not None:
            getattr(threshold, envoy_field).value = value


def _consecutive(
    od: envoy_outlier.OutlierDetection, conf: Mapping[str, Any], field: str, enforcing: str
) -> None:
    consecutive = _int(conf.get("consecutive"))
    if consecutive is None:
        getattr(od, enforcing).value = NOT_ENFORCED
        return
    getattr(od, enforcing).value = ENFORCED
    getattr(od, field).value = consecutive


def _success_rate(od: envoy_outlier.OutlierDetection, conf: Mapping[str, Any] | None) -> None:
    enforced = NOT_ENFORCED if conf is None else ENFORCED
    od.enforcing_success_rate.value = enforced
    od.enforcing_local_origin_success_rate.value = enforced
    if conf is None:
        return
    if (hosts := _int(conf.get("minimumHosts"))) is not None:
        od.success_rate_minimum_hosts.value = hosts
    if (volume := _int(conf.get("requestVolume"))) is not None:
        od.success_rate_request_volume.value = volume
    factor = conf.get("standardDeviationFactor")
    if factor is not None:
        od.success_rate_stdev_factor.value = int(decimal(factor) * 1000)


def _failure_percentage(od: envoy_outlier.OutlierDetection, conf: Mapping[str, Any] | None) -> None:
    enforced = NOT_ENFORCED if conf is None else ENFORCED
    od.enforcing_failure_percentage.value = enforced
    od.enforcing_failure_percentage_local_origin.value = enforced
    if conf is None:
        return
    if (hosts := _int(conf.get("minimumHosts"))) is not None:
        od.failure_percentage_minimum_hosts.value = hosts
    if (volume := _int(conf.get("requestVolume"))) is not None:
        od.failure_percentage_request_volume.value = volume
    if (threshold := _int(conf.get("threshold"))) is not None:
        od.failure_percentage_threshold.value = threshold


def _optional(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def outlier_detection(cluster: envoy_cluster.Cluster, conf: Mapping[str, Any]) -> None:
    """Kuma ``configureOutlierDetection``; ``disabled: true`` leaves the cluster without it."""
    if conf.get("disabled") is True:
        return
    od = cluster.outlier_detection
    od.SetInParent()
    interval = conf_seconds(conf.get("interval"))
    if interval is not None:
        set_duration(od.interval, interval)
    ejection = conf_seconds(conf.get("baseEjectionTime"))
    if ejection is not None:
        set_duration(od.base_ejection_time, ejection)
    if isinstance(conf.get("splitExternalAndLocalErrors"), bool):
        od.split_external_local_origin_errors = conf["splitExternalAndLocalErrors"]
    if (max_percent := _int(conf.get("maxEjectionPercent"))) is not None:
        od.max_ejection_percent.value = max_percent
    detectors = mapping(conf.get("detectors"))
    _consecutive(
        od, mapping(detectors.get("totalFailures")), "consecutive_5xx", "enforcing_consecutive_5xx"
    )
    _consecutive(
        od,
        mapping(detectors.get("localOriginFailures")),
        "consecutive_local_origin_failure",
        "enforcing_consecutive_local_origin_failure",
    )
    _consecutive(
        od,
        mapping(detectors.get("gatewayFailures")),
        "consecutive_gateway_failure",
        "enforcing_consecutive_gateway_failure",
    )
    if "detectors" in conf:
        _success_rate(od, _optional(detectors.get("successRate")))
        _failure_percentage(od, _optional(detectors.get("failurePercentage")))
    threshold = conf.get("healthyPanicThreshold")
    if threshold is not None:
        cluster.common_lb_config.healthy_panic_threshold.CopyFrom(percent(threshold))


class MeshCircuitBreaker(PolicyBase):
    kind = Kind.MESH_CIRCUIT_BREAKER
    sections = frozenset({Section.TO, Section.FROM, Section.RULES})
    hooks = frozenset({Hook.OUTBOUND_CLUSTER, Hook.INBOUND_CLUSTER})

    def _configure(self, parts: ClusterParts, conf: Merged) -> None:
        limits = conf.get("connectionLimits")
        if isinstance(limits, Mapping):
            circuit_breakers(parts.cluster, limits)
        outlier = conf.get("outlierDetection")
        if isinstance(outlier, Mapping):
            outlier_detection(parts.cluster, outlier)

    def outbound_cluster(self, parts: ClusterParts, conf: Merged, ctx: ClusterContext) -> None:
        self._configure(parts, conf)

    def inbound_cluster(self, parts: ClusterParts, conf: Merged, ctx: InboundContext) -> None:
        self._configure(parts, conf)


PLUGIN = MeshCircuitBreaker()
