"""When to poll the source next: the interval with ±10 % jitter, or a capped backoff.

Jitter spreads replicas (and many servers on one Git host) over time; the backoff keeps an
unreachable host from being hammered while still trying again within ``cap_s``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

POLL_JITTER = 0.10


def jittered(
    interval_s: float, *, fraction: float = POLL_JITTER, rng: random.Random | None = None
) -> float:
    """``interval_s`` moved by a uniform random fraction in ``[-fraction, +fraction]``."""
    r = rng or random
    return interval_s * (1.0 + r.uniform(-fraction, fraction))


@dataclass(slots=True)
class Backoff:
    """Exponential backoff with full jitter (between half and all of the step), capped.

    ``next_delay()`` after each failure; ``reset()`` after a success.
    """

    base_s: float = 1.0
    cap_s: float = 300.0
    factor: float = 2.0
    failures: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next_delay(self) -> float:
        step = min(self.cap_s, self.base_s * self.factor ** min(self.failures, 64))
        self.failures += 1
        return min(self.cap_s, step * self.rng.uniform(0.5, 1.0))

    def reset(self) -> None:
        self.failures = 0


def parse_duration(text: str) -> float:
    """Seconds in ``30s``, ``1m``, ``500ms``, ``2h`` or a bare number of seconds."""
    units = (("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0))
    raw = text.strip().lower()
    for suffix, scale in units:
        if raw.endswith(suffix) and raw[: -len(suffix)].replace(".", "", 1).isdigit():
            return float(raw[: -len(suffix)]) * scale
    if raw.replace(".", "", 1).isdigit():
        return float(raw)
    raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 1m, 500ms)")
