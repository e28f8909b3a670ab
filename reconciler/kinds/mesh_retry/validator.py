"""MeshRetry (Kuma 2.14 ``meshretry/api/v1alpha1/validator.go``)."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from reconciler import codes
from reconciler.validate.rules import sections as s
from reconciler.validate.rules import values as v
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map, is_number

HTTP_RETRY_ON = frozenset(
    {
        "5xx",  # Kuma's constant; the API docs write it "5XX", so both are accepted
        "5XX",
        "GatewayError",
        "Reset",
        "Retriable4xx",
        "ConnectFailure",
        "EnvoyRatelimited",
        "RefusedStream",
        "Http3PostConnectFailure",
        "HttpMethodConnect",
        "HttpMethodDelete",
        "HttpMethodGet",
        "HttpMethodHead",
        "HttpMethodOptions",
        "HttpMethodPatch",
        "HttpMethodPost",
        "HttpMethodPut",
        "HttpMethodTrace",
    }
)
NEEDS_MESSAGE = "at least one of the 'tcp', 'http', 'grpc' must be specified"
HTTP_FIELDS = (
    "numRetries",
    "perTryTimeout",
    "backOff",
    "retryOn",
    "retriableRequestHeaders",
    "retriableResponseHeaders",
    "rateLimitedBackOff",
    "hostSelection",
    "hostSelectionMaxAttempts",
)
GRPC_FIELDS = ("numRetries", "perTryTimeout", "backOff", "retryOn", "rateLimitedBackOff")
_KNOWN_STATUSES = frozenset(int(st) for st in HTTPStatus)


NEEDS = ("tcp", "http", "grpc")


def check_default(f: Findings, path: Path, value: object, top: str) -> None:
    """Kuma validates a ``default`` block rooted at "conf": its paths read ``default.conf``."""
    if value is not None and not isinstance(value, dict):
        return  # the schema reports the type
    found = Findings(f.resource)
    if s.require_any(found, path, as_map(value), NEEDS, NEEDS_MESSAGE):
        _check_conf(found, path, as_map(value))
    f.merge_renamed(found, ".default", ".default.conf")


def _check_conf(f: Findings, path: Path, conf: Mapping[str, Any]) -> None:
    tcp = conf.get("tcp")
    if isinstance(tcp, dict) and tcp.get("maxConnectAttempt") is None:
        f.add(codes.SETTING_MISSING, (*path, "tcp"), "must not be empty")
    elif isinstance(tcp, dict):
        v.int_greater_than(f, (*path, "tcp", "maxConnectAttempt"), tcp.get("maxConnectAttempt"))
    http = conf.get("http")
    if isinstance(http, dict):
        _check_retry(f, (*path, "http"), http, HTTP_FIELDS)
        for i, item in enumerate(as_list(http.get("retryOn"))):
            if isinstance(item, str) and item not in HTTP_RETRY_ON and not _status(item):
                f.add(
                    codes.VALUE_NOT_ALLOWED, (*path, "http", "retryOn", i), f"unknown item {item!r}"
                )
        _check_host_selection(f, (*path, "http", "hostSelection"), http.get("hostSelection"))
    grpc = conf.get("grpc")
    if isinstance(grpc, dict):
        _check_retry(f, (*path, "grpc"), grpc, GRPC_FIELDS)
        # grpc retryOn values are an enum of the schema


def _status(item: str) -> bool:
    return item.isdigit() and int(item) in _KNOWN_STATUSES


def _check_retry(f: Findings, path: Path, conf: dict[str, object], fields: tuple[str, ...]) -> None:
    if all(conf.get(n) is None for n in fields):
        f.add(codes.SETTING_MISSING, path, "must not be empty")
    v.duration_valid_or_nil(f, (*path, "perTryTimeout"), conf.get("perTryTimeout"))
    back_off = conf.get("backOff")
    if isinstance(back_off, dict):
        if back_off.get("baseInterval") is None and back_off.get("maxInterval") is None:
            f.add(codes.SETTING_MISSING, (*path, "backOff"), "must not be empty")
        for name in ("baseInterval", "maxInterval"):
            v.duration_valid_or_nil(f, (*path, "backOff", name), back_off.get(name))
    limited = conf.get("rateLimitedBackOff")
    if isinstance(limited, dict):
        lpath = (*path, "rateLimitedBackOff")
        if limited.get("maxInterval") is not None:
            v.duration_gt_zero(f, (*lpath, "maxInterval"), limited.get("maxInterval"))
        headers = limited.get("resetHeaders")
        if headers is None:
            f.add(codes.SETTING_MISSING, (*lpath, "resetHeaders"), "must be defined")
        # header names (required, non-empty) are checked by the schema


def _check_host_selection(f: Findings, path: Path, value: object) -> None:
    priority_seen = False
    for i, predicate in enumerate(as_list(value)):
        if not isinstance(predicate, dict):
            continue
        kind = predicate.get("predicate")
        if kind == "OmitHostsWithTags":
            if predicate.get("tags") is None:
                f.add(codes.SETTING_MISSING, (*path, i, "tags"), "must be defined")
        elif kind == "OmitPreviousPriorities":
            if priority_seen:
                f.add(
                    codes.SETTINGS_CONFLICT,
                    (*path, i, "predicate"),
                    "OmitPreviousPriorities must only be specified once",
                )
            frequency = predicate.get("updateFrequency")
            if not is_number(frequency) or frequency <= 0:
                f.add(
                    codes.SETTING_MISSING,
                    (*path, i, "updateFrequency"),
                    "must be defined and greater than zero",
                )
            priority_seen = True
        elif kind != "OmitPreviousHosts" and isinstance(kind, str):
            f.add(
                codes.VALUE_NOT_ALLOWED, (*path, i, "predicate"), f"unknown predicate type {kind!r}"
            )
