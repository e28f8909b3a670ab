"""MeshCircuitBreaker (Kuma 2.14 ``meshcircuitbreaker/api/v1alpha1/validator.go``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler import codes
from reconciler.validate.rules import sections as s
from reconciler.validate.rules import values as v
from reconciler.validate.rules.findings import Findings, Path, as_map

LIMITS = ("maxConnections", "maxConnectionPools", "maxPendingRequests", "maxRetries", "maxRequests")
DETECTORS = (
    "totalFailures",
    "gatewayFailures",
    "localOriginFailures",
    "successRate",
    "failurePercentage",
)


NEEDS = ("connectionLimits", "outlierDetection")
NEEDS_MESSAGE = "at least one of: 'connectionLimits' or 'outlierDetection' should be configured"


def check_default(f: Findings, path: Path, value: object, top: str) -> None:
    if value is not None and not isinstance(value, dict):
        return  # the schema reports the type
    found = Findings(f.resource)
    if s.require_any(found, path, as_map(value), NEEDS, NEEDS_MESSAGE):
        _check_conf(found, path, as_map(value))
    if path[0] == "rules":
        # Kuma 2.14 validates rules[i].default at the path "from[i].default"
        f.merge_renamed(found, "spec.rules[", "spec.from[")
    else:
        f.extend(found.diagnostics)


def _check_conf(f: Findings, path: Path, conf: Mapping[str, Any]) -> None:
    limits = as_map(conf.get("connectionLimits"))
    for name in LIMITS:
        v.int_greater_than(f, (*path, "connectionLimits", name), limits.get(name))
    outlier = conf.get("outlierDetection")
    if not isinstance(outlier, dict):
        return
    opath = (*path, "outlierDetection")
    v.duration_gt_zero_or_nil(f, (*opath, "interval"), outlier.get("interval"))
    v.duration_gt_zero_or_nil(f, (*opath, "baseEjectionTime"), outlier.get("baseEjectionTime"))
    v.uint_percentage_or_nil(f, (*opath, "maxEjectionPercent"), outlier.get("maxEjectionPercent"))
    v.uint_percentage_or_nil(
        f, (*opath, "healthyPanicThreshold"), outlier.get("healthyPanicThreshold")
    )
    detectors = outlier.get("detectors")
    if detectors is None:
        if outlier.get("disabled") is not True:
            f.add(codes.SETTING_MISSING, (*opath, "detectors"), "must be defined")
        return
    if not isinstance(detectors, dict):
        return
    dpath = (*opath, "detectors")
    if all(detectors.get(n) is None for n in DETECTORS):
        f.add(codes.SETTING_MISSING, dpath, s.at_least_one(*DETECTORS))
        return
    for name in ("totalFailures", "gatewayFailures", "localOriginFailures"):
        v.int_greater_than(
            f, (*dpath, name, "consecutive"), as_map(detectors.get(name)).get("consecutive")
        )
    rate = as_map(detectors.get("successRate"))
    v.int_greater_than(f, (*dpath, "successRate", "minimumHosts"), rate.get("minimumHosts"))
    v.int_greater_than(f, (*dpath, "successRate", "requestVolume"), rate.get("requestVolume"))
    factor = rate.get("standardDeviationFactor")
    if factor is not None:
        number = v.decimal_value(factor)
        if number is None:
            f.add(
                codes.NUMBER_RANGE,
                (*dpath, "successRate", "standardDeviationFactor"),
                "invalid number",
            )
        elif number <= 0:
            f.add(
                codes.NUMBER_RANGE,
                (*dpath, "successRate", "standardDeviationFactor"),
                "must be greater than 0",
            )
    failure = as_map(detectors.get("failurePercentage"))
    v.int_greater_than(
        f, (*dpath, "failurePercentage", "minimumHosts"), failure.get("minimumHosts")
    )
    v.int_greater_than(
        f, (*dpath, "failurePercentage", "requestVolume"), failure.get("requestVolume")
    )
    v.uint_percentage_or_nil(
        f, (*dpath, "failurePercentage", "threshold"), failure.get("threshold")
    )
