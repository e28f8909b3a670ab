"""Scalar conversions for builders: durations, enums checked before they are emitted."""

from __future__ import annotations

import functools
from typing import Any

from google.protobuf import duration_pb2

from reconciler.durations import parse_duration
from reconciler.errors import CompileError


def set_duration(target: duration_pb2.Duration, seconds: float) -> None:
    target.FromNanoseconds(round(seconds * 1e9))


def conf_seconds(value: Any) -> float | None:
    """A conf duration (``"1.5s"``, ``"1h30m"``) in seconds; None when unset or unparsable."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return _parse(str(value))


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> float | None:
    return parse_duration(text)


def enum_value(enum: Any, name: str) -> int:
    """The number of enum value ``name``; proto3 enums are open, so check before emitting."""
    try:
        return int(enum.Value(name))
    except ValueError as exc:
        raise CompileError(f"{name!r} is not a value of {enum.DESCRIPTOR.full_name}") from exc
