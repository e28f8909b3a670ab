"""Poll jitter, capped backoff and durations."""

from __future__ import annotations

import random

import pytest

from reconciler.source.backoff import Backoff, jittered, parse_duration


def test_jitter_stays_within_ten_percent() -> None:
    rng = random.Random(7)
    values = [jittered(30.0, rng=rng) for _ in range(2000)]
    assert min(values) >= 27.0 and max(values) <= 33.0
    assert max(values) - min(values) > 5.0  # it does spread


def test_backoff_grows_then_caps_and_resets() -> None:
    b = Backoff(base_s=1.0, cap_s=20.0, rng=random.Random(3))
    delays = [b.next_delay() for _ in range(10)]
    assert 0.5 <= delays[0] <= 1.0
    assert 4.0 <= delays[3] <= 8.0
    assert all(d <= 20.0 for d in delays)
    assert delays[-1] >= 10.0
    b.reset()
    assert b.next_delay() <= 1.0


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30.0), ("1m", 60.0), ("500ms", 0.5), ("2h", 7200.0), ("5", 5.0)]
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "s", "-1s", "1d", "ten"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)
