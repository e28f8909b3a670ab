"""CircuitBreaker (Kuma 2.14 ``circuit_breaker_validator.go``): selectors, at least one
detector or threshold, percentages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler import codes
from reconciler.model import Resource
from reconciler.validate.rules.findings import Findings, Path, as_map
from reconciler.validate.rules.selectors import (
    ONLY_SERVICE,
    SOURCES,
    check_selectors,
    is_present,
    proto_number,
)

DETECTORS = ("totalErrors", "gatewayErrors", "localErrors", "standardDeviation", "failure")
THRESHOLDS = ("maxConnections", "maxPendingRequests", "maxRetries", "maxRequests")
PERCENT = "has to be in [0.0 - 100.0] range"


def check(f: Findings, resource: Resource) -> None:
    data = resource.spec
    check_selectors(f, ("sources",), data.get("sources"), SOURCES)
    check_selectors(f, ("destinations",), data.get("destinations"), ONLY_SERVICE)
    conf = data.get("conf")
    if conf is None or isinstance(conf, dict):
        _conf(f, conf or {})


def _any(message: Mapping[str, Any], fields: tuple[str, ...]) -> bool:
    return any(is_present(message, name) for name in fields)


def _conf(f: Findings, conf: Mapping[str, Any]) -> None:
    path: Path = ("conf",)
    detectors = as_map(conf.get("detectors"))
    thresholds = as_map(conf.get("thresholds"))
    has_detectors = _any(detectors, DETECTORS)
    has_thresholds = _any(thresholds, THRESHOLDS)
    if not has_detectors and not has_thresholds:
        f.add(
            codes.SETTING_MISSING,
            path,
            "must have at least one of the detector or threshold configured",
        )
        return
    if is_present(conf, "detectors") and not has_detectors:
        f.add(codes.SETTING_MISSING, (*path, "detectors"), "can't be empty")
    _percentage(f, (*path, "maxEjectionPercent"), conf.get("maxEjectionPercent"))
    failure = as_map(detectors.get("failure"))
    _percentage(f, (*path, "detectors", "failure", "threshold"), failure.get("threshold"))
    if is_present(conf, "thresholds") and not has_thresholds:
        f.add(codes.SETTING_MISSING, (*path, "thresholds"), "can't be empty")


def _percentage(f: Findings, path: Path, value: object) -> None:
    value = proto_number(value)
    if value is not None and not 0 <= value <= 100:
        f.add(codes.NUMBER_RANGE, path, PERCENT)
