"""MeshCircuitBreaker (Kuma 2.14 ``meshcircuitbreaker/api/v1alpha1/validator.go``)."""

from __future__ import annotations

from collections.abc import Iterable

from reconciler import codes
from reconciler.diagnostics import Diagnostic
from reconciler.model import Resource
from reconciler.validate.rules import sections as s
from reconciler.validate.rules import targetrefs as t
from reconciler.validate.rules import values as v
from reconciler.validate.rules.findings import Findings, Path, as_map

TOP_KINDS = (
    t.MESH,
    t.MESH_SUBSET,
    t.MESH_SERVICE,
    t.MESH_GATEWAY,
    t.MESH_SERVICE_SUBSET,
    t.DATAPLANE,
)
TO_KINDS = (t.MESH, t.MESH_SERVICE, t.MESH_EXTERNAL_SERVICE, t.MESH_MULTI_ZONE_SERVICE)
FROM_KINDS = (t.MESH,)
LIMITS = ("maxConnections", "maxConnectionPools", "maxPendingRequests", "maxRetries", "maxRequests")
DETECTORS = (
    "totalFailures",
    "gatewayFailures",
    "localOriginFailures",
    "successRate",
    "failurePercentage",
)


def check(resource: Resource) -> Iterable[Diagnostic]:
    f = Findings(resource)
    spec = resource.spec
    t.check_target_ref(
        f,
        ("targetRef",),
        spec.get("targetRef"),
        TOP_KINDS,
        inbound_policy=s.affects_inbounds(spec),
        where="as top-level targetRef",
    )
    if s.has(spec, "rules") and (s.has(spec, "to") or s.has(spec, "from")):
        f.add(codes.POLICY_SECTIONS, (), s.RULES_EXCLUDE_TO_FROM)
    if not (s.has(spec, "to") or s.has(spec, "from") or s.has(spec, "rules")):
        f.add(codes.POLICY_SECTIONS, (), s.AT_LEAST_ONE_OF_TO_FROM_RULES)
    s.check_entries(f, spec, "from", FROM_KINDS, check_conf)
    s.check_entries(f, spec, "to", TO_KINDS, check_conf)
    s.check_rules(f, spec, check_conf, matches=False)
    return f.diagnostics


def check_conf(f: Findings, path: Path, value: object) -> None:
    if value is not None and not isinstance(value, dict):
        return
    conf = as_map(value)
    if not s.require_any(
        f,
        path,
        conf,
        ("connectionLimits", "outlierDetection"),
        "at least one of: 'connectionLimits' or 'outlierDetection' should be configured",
    ):
        return
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
