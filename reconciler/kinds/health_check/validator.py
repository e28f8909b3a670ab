"""HealthCheck (Kuma 2.14 ``health_check_validator.go``): selectors, intervals, thresholds,
the HTTP check and the panic threshold."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler import codes
from reconciler.model import Resource
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map
from reconciler.validate.rules.selectors import (
    ONLY_SERVICE,
    SOURCES,
    check_selectors,
    duration_seconds,
    is_present,
    proto_field,
    proto_number,
)

POSITIVE = "must have a positive value"


def check(f: Findings, resource: Resource) -> None:
    data = resource.spec
    check_selectors(f, ("sources",), data.get("sources"), SOURCES)
    check_selectors(f, ("destinations",), data.get("destinations"), ONLY_SERVICE)
    conf = data.get("conf")
    if conf is None:
        f.add(codes.SETTING_MISSING, ("conf",), "has to be defined")
        return
    if isinstance(conf, dict):
        _conf(f, conf)


def _conf(f: Findings, conf: Mapping[str, Any]) -> None:
    path: Path = ("conf",)
    _duration(f, (*path, "interval"), conf.get("interval"))
    _duration(f, (*path, "timeout"), conf.get("timeout"))
    for json_name, proto_name in (
        ("unhealthyThreshold", "unhealthy_threshold"),
        ("healthyThreshold", "healthy_threshold"),
    ):
        value = proto_field(conf, json_name, proto_name)
        if value is None:
            f.add(codes.SETTING_MISSING, (*path, json_name), POSITIVE)
        elif proto_number(value) == 0:
            f.add(codes.NUMBER_RANGE, (*path, json_name), POSITIVE)
    for json_name, proto_name in (
        ("initialJitter", "initial_jitter"),
        ("intervalJitter", "interval_jitter"),
        ("noTrafficInterval", "no_traffic_interval"),
    ):
        value = proto_field(conf, json_name, proto_name)
        if value is not None:
            _duration(f, (*path, json_name), value)
    panic = proto_field(conf, "healthyPanicThreshold", "healthy_panic_threshold")
    panic = proto_number(panic)
    if panic is not None and not 0.0 <= panic <= 100.0:
        f.add(
            codes.NUMBER_RANGE, (*path, "healthyPanicThreshold"), "must be in range [0.0 - 100.0]"
        )
    http = conf.get("http")
    if isinstance(http, dict):
        _http(f, (*path, "http"), http)
    if is_present(conf, "tcp") and http is not None:
        f.add(codes.SETTINGS_CONFLICT, path, "http and tcp cannot be defined at the same time")


def _duration(f: Findings, path: Path, value: object) -> None:
    """Kuma's ``ValidateDuration``: set and not zero."""
    if value is None:
        f.add(codes.SETTING_MISSING, path, POSITIVE)
        return
    if duration_seconds(value) == 0:
        f.add(codes.DURATION_INVALID, path, POSITIVE)


def _http(f: Findings, path: Path, http: Mapping[str, Any]) -> None:
    if http.get("path") in (None, ""):
        f.add(codes.SETTING_MISSING, (*path, "path"), "has to be defined and cannot be empty")
    statuses = proto_field(http, "expectedStatuses", "expected_statuses")
    for i, status in enumerate(as_list(statuses)):
        status = proto_number(status)
        if status is not None and not 100 <= status < 600:
            f.add(codes.NUMBER_RANGE, (*path, "expectedStatuses", i), "must be in range [100, 600)")
    headers = proto_field(http, "requestHeadersToAdd", "request_headers_to_add")
    for i, option in enumerate(as_list(headers)):
        where = (*path, "requestHeadersToAdd", i, "header")
        header = as_map(option).get("header")
        if header is None:
            f.add(codes.SETTING_MISSING, where, "has to be defined")
            continue
        if as_map(header).get("key") in (None, ""):
            f.add(codes.SETTING_MISSING, (*where, "key"), "cannot be empty")
