"""Kuma's duration strings for certificate lifetimes (``10y``, ``1d``, ``24h``, ``1h30m``).

``Mesh.mtls.backends[].conf.caCert.expiration`` and ``dpCert.rotation.expiration`` are not Go
durations: Kuma also accepts ``d`` (24 hours) and ``y`` (365 days). A string is one or more
``<number><unit>`` terms; units ``y d h m s ms us µs ns``.
"""

from __future__ import annotations

import re
from datetime import timedelta

_TERM = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|y|d|h|m|s)")
_UNIT_SECONDS = {
    "y": 365 * 86400.0,
    "d": 86400.0,
    "h": 3600.0,
    "m": 60.0,
    "s": 1.0,
    "ms": 1e-3,
    "us": 1e-6,
    "µs": 1e-6,
    "ns": 1e-9,
}


class ExpirationError(ValueError):
    """The text is not a Kuma duration; the message says which forms are accepted."""


def parse_expiration(text: str) -> timedelta:
    """``"10y"`` -> 3650 days; raises :class:`ExpirationError` for anything else than a
    positive sum of ``<number><unit>`` terms."""
    stripped = text.strip()
    pos = 0
    total = 0.0
    for match in _TERM.finditer(stripped):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if not stripped or pos != len(stripped):
        raise ExpirationError(
            f"{text!r} is not a duration; write <number><unit> terms such as 10y, 30d, 24h, 1h30m "
            "(units y=365d, d, h, m, s, ms)"
        )
    if total <= 0:
        raise ExpirationError(f"{text!r} must be longer than zero")
    return timedelta(seconds=total)


def format_expiration(value: timedelta) -> str:
    """The shortest exact Kuma form of a whole number of seconds (``86400s`` -> ``1d``)."""
    seconds = int(value.total_seconds())
    for unit in ("y", "d", "h", "m"):
        size = int(_UNIT_SECONDS[unit])
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
