"""MeshHealthCheck (Kuma 2.14 ``meshhealthcheck/api/v1alpha1/validator.go``)."""

from __future__ import annotations

from reconciler import codes
from reconciler.validate.rules import sections as s
from reconciler.validate.rules import values as v
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map

POSITIVE_DURATIONS = ("interval", "timeout", "initialJitter", "intervalJitter", "noTrafficInterval")


def check_default(f: Findings, path: Path, value: object, top: str) -> None:
    if value is not None and not isinstance(value, dict):
        return
    conf = as_map(value)
    for name in POSITIVE_DURATIONS:
        v.duration_gt_zero_or_nil(f, (*path, name), conf.get(name))
    v.value_gt_zero_or_nil(f, (*path, "unhealthyThreshold"), conf.get("unhealthyThreshold"))
    v.value_gt_zero_or_nil(f, (*path, "healthyThreshold"), conf.get("healthyThreshold"))
    v.uint_percentage_or_nil(f, (*path, "intervalJitterPercent"), conf.get("intervalJitterPercent"))
    v.percentage(f, (*path, "healthyPanicThreshold"), conf.get("healthyPanicThreshold"))
    v.file_path(
        f, (*path, "eventLogPath"), conf.get("eventLogPath"), "must be a valid path when defined"
    )
    http = conf.get("http")
    if isinstance(http, dict):
        if "path" in http and http.get("path") in ("", None):
            f.add(codes.SETTING_MISSING, (*path, "http", "path"), "must be defined")
        for i, status in enumerate(as_list(http.get("expectedStatuses"))):
            v.status_code(f, (*path, "http", "expectedStatuses", i), status)
    if all(conf.get(n) is None for n in ("http", "tcp", "grpc")):
        f.add(codes.SETTING_MISSING, path, s.at_least_one("http", "tcp", "grpc"))
