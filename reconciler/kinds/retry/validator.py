"""Retry (Kuma 2.14 ``retry_validator.go``): selectors and the HTTP, gRPC and TCP retry
sections."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler import codes
from reconciler.model import Resource
from reconciler.validate.rules.findings import Findings, Path, as_list, is_number
from reconciler.validate.rules.selectors import (
    ONLY_SERVICE,
    SOURCES,
    check_selectors,
    duration_seconds,
    proto_field,
    proto_number,
)

EMPTY_FIELD = "field cannot be empty"
DEFINED = "has to be defined"
GREATER = "has to be greater than 0"
GREATER_WHEN_DEFINED = "has to be greater than 0 when defined"
HTTP_RETRY_ON = (
    "all_5xx",
    "gateway_error",
    "reset",
    "connect_failure",
    "envoy_ratelimited",
    "retriable_4xx",
    "refused_stream",
    "retriable_status_codes",
    "retriable_headers",
    "http3_post_connect_failure",
)
GRPC_RETRY_ON = ("cancelled", "deadline_exceeded", "internal", "resource_exhausted", "unavailable")


def _enum_name(value: object, names: tuple[str, ...]) -> object:
    """protojson takes an enum by name or by number; compare by name."""
    if is_number(value) and 0 <= value < len(names) and int(value) == value:
        return names[int(value)]
    return value


def check(f: Findings, resource: Resource) -> None:
    data = resource.spec
    check_selectors(f, ("sources",), data.get("sources"), SOURCES)
    check_selectors(f, ("destinations",), data.get("destinations"), ONLY_SERVICE)
    conf = data.get("conf")
    if conf is None:
        f.add(codes.SETTING_MISSING, ("conf",), DEFINED)
        return
    if not isinstance(conf, dict):
        return
    http, grpc, tcp = conf.get("http"), conf.get("grpc"), conf.get("tcp")
    if http is None and grpc is None and tcp is None:
        f.add(codes.SETTING_MISSING, ("conf",), "missing protocol [grpc|http|tcp] configuration")
        return
    if isinstance(http, dict):
        _http(f, ("conf", "http"), http)
    if isinstance(grpc, dict):
        _grpc(f, ("conf", "grpc"), grpc)
    if isinstance(tcp, dict):
        attempts = proto_field(tcp, "maxConnectAttempts", "max_connect_attempts")
        if attempts is None or attempts == 0:
            f.add(codes.NUMBER_RANGE, ("conf", "tcp", "maxConnectAttempts"), GREATER)


def _set_list(message: Mapping[str, Any], json_name: str, proto_name: str) -> list[Any] | None:
    """A repeated field as Go sees it after protojson: an empty list is nil."""
    value = proto_field(message, json_name, proto_name)
    return value if isinstance(value, list) and value else None


def _common(f: Findings, path: Path, section: Mapping[str, Any]) -> None:
    retries = proto_field(section, "numRetries", "num_retries")
    if proto_number(retries) == 0:
        f.add(codes.NUMBER_RANGE, (*path, "numRetries"), GREATER_WHEN_DEFINED)
    per_try = proto_field(section, "perTryTimeout", "per_try_timeout")
    if per_try is not None and duration_seconds(per_try) == 0:
        f.add(codes.DURATION_INVALID, (*path, "perTryTimeout"), GREATER_WHEN_DEFINED)
    back_off = proto_field(section, "backOff", "back_off")
    if isinstance(back_off, dict):
        _back_off(f, (*path, "backOff"), back_off)


def _back_off(f: Findings, path: Path, back_off: Mapping[str, Any]) -> None:
    base = proto_field(back_off, "baseInterval", "base_interval")
    if base is None:
        f.add(codes.SETTING_MISSING, (*path, "baseInterval"), DEFINED)
    elif duration_seconds(base) == 0:
        f.add(codes.DURATION_INVALID, (*path, "baseInterval"), GREATER)
    else:
        maximum = proto_field(back_off, "maxInterval", "max_interval")
        if maximum is not None and duration_seconds(maximum) == 0:
            f.add(codes.DURATION_INVALID, (*path, "maxInterval"), GREATER_WHEN_DEFINED)


def _http(f: Findings, path: Path, http: Mapping[str, Any]) -> None:
    status_codes = _set_list(http, "retriableStatusCodes", "retriable_status_codes")
    methods = _set_list(http, "retriableMethods", "retriable_methods")
    retry_on = _set_list(http, "retryOn", "retry_on")
    scalars = (
        ("numRetries", "num_retries"),
        ("perTryTimeout", "per_try_timeout"),
        ("backOff", "back_off"),
    )
    if (
        all(proto_field(http, a, b) is None for a, b in scalars)
        and status_codes is None
        and methods is None
        and retry_on is None
    ):
        f.add(codes.SETTING_MISSING, path, EMPTY_FIELD)
    _common(f, path, http)
    for i, method in enumerate(methods or []):
        if method in ("NONE", 0):
            f.add(codes.VALUE_NOT_ALLOWED, (*path, "retriableMethods", i), EMPTY_FIELD)
    for i, condition in enumerate(retry_on or []):
        if _enum_name(condition, HTTP_RETRY_ON) == "retriable_status_codes" and not status_codes:
            f.add(
                codes.SETTING_MISSING,
                (*path, "retryOn", i),
                "retriableStatusCodes cannot be empty when this option is specified",
            )


def _grpc(f: Findings, path: Path, grpc: Mapping[str, Any]) -> None:
    retry_on = _set_list(grpc, "retryOn", "retry_on")
    scalars = (
        ("numRetries", "num_retries"),
        ("perTryTimeout", "per_try_timeout"),
        ("backOff", "back_off"),
    )
    if all(proto_field(grpc, a, b) is None for a, b in scalars) and retry_on is None:
        f.add(codes.SETTING_MISSING, path, EMPTY_FIELD)
    positions: dict[str, list[int]] = {}
    for i, condition in enumerate(as_list(retry_on)):
        name = _enum_name(condition, GRPC_RETRY_ON)
        if isinstance(name, str):
            positions.setdefault(name, []).append(i)
    repeated = sorted(
        f'repeated value "{name}" at indexes [{", ".join(str(i) for i in indexes)}]'
        for name, indexes in positions.items()
        if len(indexes) > 1
    )
    for message in repeated:
        f.add(codes.SETTINGS_CONFLICT, (*path, "retryOn"), message)
    _common(f, path, grpc)
