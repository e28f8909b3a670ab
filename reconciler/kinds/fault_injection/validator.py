"""FaultInjection (Kuma 2.14 ``fault_injection_validator.go``): selectors (HTTP-based
destinations), at least one fault, percentages, abort status, bandwidth limit."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reconciler import codes
from reconciler.model import Resource
from reconciler.validate.rules.findings import Findings, Path, as_map
from reconciler.validate.rules.selectors import (
    ANY_TAGS,
    TagRules,
    check_selectors,
    is_present,
    proto_field,
    proto_number,
)

HTTP_DESTINATIONS = TagRules(at_least_one_tag=True, http_protocol=True)
LIMIT = re.compile(r"\d*\s?[gmk]bps")
"""Kuma's ``regexp.MatchString`` (unanchored)."""
EMPTY = "cannot be empty"
GO_STATUS_TEXTS = frozenset(
    (
        *(100, 101, 102, 103),
        *(200, 201, 202, 203, 204, 205, 206, 207, 208, 226),
        *(300, 301, 302, 303, 304, 305, 307, 308),
        *range(400, 419),
        *(421, 422, 423, 424, 425, 426, 428, 429, 431, 451),
        *(500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511),
    )
)
"""Status codes Go's ``http.StatusText`` names (Kuma rejects the others)."""
FAULTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("delay", "delay", ("percentage", "value")),
    ("abort", "abort", ("percentage", "httpStatus")),
    ("responseBandwidth", "response_bandwidth", ("percentage", "limit")),
)


def check(f: Findings, resource: Resource) -> None:
    data = resource.spec
    check_selectors(f, ("sources",), data.get("sources"), ANY_TAGS)
    check_selectors(f, ("destinations",), data.get("destinations"), HTTP_DESTINATIONS)
    conf = data.get("conf")
    if conf is None or isinstance(conf, dict):
        _conf(f, conf or {})


def _conf(f: Findings, conf: Mapping[str, Any]) -> None:
    faults: dict[str, Mapping[str, Any]] = {}
    for json_name, proto_name, fields in FAULTS:
        fault = as_map(proto_field(conf, json_name, proto_name))
        # Kuma's HasFault*: set and not equal to the empty message
        if any(is_present(fault, name) for name in fields):
            faults[json_name] = fault
    if not faults:
        f.add(codes.SETTING_MISSING, ("conf",), "must have at least one of the faults configured")
    delay = faults.get("delay")
    if delay is not None:
        _percentage(f, ("conf", "delay"), delay)
        if delay.get("value") is None:
            f.add(codes.SETTING_MISSING, ("conf", "delay", "value"), EMPTY)
    abort = faults.get("abort")
    if abort is not None:
        _percentage(f, ("conf", "abort"), abort)
        status = abort.get("httpStatus")
        if status is None:
            f.add(codes.SETTING_MISSING, ("conf", "abort", "httpStatus"), EMPTY)
        elif (code := proto_number(status)) is not None and code not in GO_STATUS_TEXTS:
            f.add(
                codes.NUMBER_RANGE, ("conf", "abort", "httpStatus"), "http status code is incorrect"
            )
    bandwidth = faults.get("responseBandwidth")
    if bandwidth is not None:
        path: Path = ("conf", "responseBandwidth")
        _percentage(f, path, bandwidth)
        limit = bandwidth.get("limit")
        if limit is None:
            f.add(codes.SETTING_MISSING, (*path, "limit"), EMPTY)
        elif isinstance(limit, str) and not LIMIT.search(limit):
            f.add(codes.VALUE_NOT_ALLOWED, (*path, "limit"), "has to be in kbps/mbps/gbps units")


def _percentage(f: Findings, path: Path, fault: Mapping[str, Any]) -> None:
    value = fault.get("percentage")
    if value is None:
        f.add(codes.SETTING_MISSING, (*path, "percentage"), EMPTY)
    elif (number := proto_number(value)) is not None and not 0.0 <= number <= 100.0:
        f.add(codes.NUMBER_RANGE, (*path, "percentage"), "has to be in [0.0 - 100.0] range")
