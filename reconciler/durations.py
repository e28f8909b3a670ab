"""Go duration strings (``1s``, ``500ms``, ``1h30m``, ``1.5s``, ``300us``) as Kuma reads them.

Kuma's policy fields are Kubernetes ``metav1.Duration`` values, parsed by Go's
``time.ParseDuration``: an optional sign, then one or more ``<number><unit>`` parts with units
``ns``, ``us`` (``µs``/``μs``), ``ms``, ``s``, ``m``, ``h``; a bare ``0`` is allowed. Shared by
validation and the compiler so both read a duration the same way.
"""

from __future__ import annotations

import re

_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,  # U+00B5 micro sign
    "μs": 1e-6,  # U+03BC greek mu
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_MAX_SECONDS = (2**63 - 1) / 1e9
"""Go durations are int64 nanoseconds: about 292 years."""


def parse_duration(text: object) -> float | None:
    """Seconds as a float, or None when ``text`` is not a valid Go duration string."""
    if not isinstance(text, str) or not text or len(text) > 100:
        return None
    body = text
    sign = 1.0
    if body[0] in "+-":
        sign = -1.0 if body[0] == "-" else 1.0
        body = body[1:]
    if body == "0":
        return 0.0
    if not body:
        return None
    total = 0.0
    pos = 0
    while pos < len(body):
        match = _PART.match(body, pos)
        if match is None:
            return None
        number, unit = match.groups()
        total += float(number) * _UNITS[unit]
        pos = match.end()
    if total > _MAX_SECONDS:
        return None
    return sign * total


def format_seconds(seconds: float) -> str:
    """A short Go-style rendering (``1.5s``, ``50ms``, ``1h30m0s`` is not attempted)."""
    if seconds == 0:
        return "0s"
    if abs(seconds) < 1:
        millis = seconds * 1000
        return f"{millis:g}ms"
    return f"{seconds:g}s"
