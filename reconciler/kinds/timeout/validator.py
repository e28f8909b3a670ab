"""Timeout (Kuma 2.14 ``timeout_validator.go``): selectors and, per protocol section, at
least one timeout, each greater than zero."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler import codes
from reconciler.model import Resource
from reconciler.validate.rules.findings import Findings, Path
from reconciler.validate.rules.selectors import (
    ONLY_SERVICE,
    SOURCES,
    check_selectors,
    duration_seconds,
    proto_field,
)

NONE_DEFINED = "at least one timeout in section has to be defined"
SECTIONS: tuple[tuple[str, tuple[tuple[str, str], ...], bool], ...] = (
    ("tcp", (("idleTimeout", "idle_timeout"),), True),
    ("http", (("requestTimeout", "request_timeout"), ("idleTimeout", "idle_timeout")), False),
    (
        "grpc",
        (
            ("streamIdleTimeout", "stream_idle_timeout"),
            ("maxStreamDuration", "max_stream_duration"),
        ),
        False,
    ),
)
"""Section, the timeouts of which one must be set, and whether the message omits "when
defined" (Kuma checks the TCP idle timeout with ``validateDuration_GreaterThan0``)."""


def check(f: Findings, resource: Resource) -> None:
    data = resource.spec
    check_selectors(f, ("sources",), data.get("sources"), SOURCES)
    check_selectors(f, ("destinations",), data.get("destinations"), ONLY_SERVICE)
    conf = data.get("conf")
    if conf is None:
        f.add(codes.SETTING_MISSING, ("conf",), "has to be defined")
        return
    if not isinstance(conf, dict):
        return
    for section, fields, required in SECTIONS:
        body = conf.get(section)
        if isinstance(body, dict):
            _section(f, ("conf", section), body, fields, required)


def _section(
    f: Findings,
    path: Path,
    body: Mapping[str, Any],
    fields: tuple[tuple[str, str], ...],
    required: bool,
) -> None:
    values = [
        (json_name, proto_field(body, json_name, proto_name)) for json_name, proto_name in fields
    ]
    if all(value is None for _, value in values):
        f.add(codes.SETTING_MISSING, path, NONE_DEFINED)
        return
    message = "has to be greater than 0" if required else "has to be greater than 0 when defined"
    for json_name, value in values:
        if value is not None and duration_seconds(value) == 0:
            f.add(codes.DURATION_INVALID, (*path, json_name), message)
