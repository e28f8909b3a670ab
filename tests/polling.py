"""The one way tests wait: poll a condition until it holds, bounded in time.

A test never sleeps a fixed time and then checks: it polls ``check`` until it returns a
truthy value (returned to the caller) or ``timeout`` seconds pass (an AssertionError that
says what was awaited, with the last error seen). ``wait_for`` blocks the calling thread;
``until`` is the same loop for coroutines that share their event loop with the server.
Errors of a server that is not up yet (connection refused, a half-written answer) count
as "not yet".
"""

from __future__ import annotations

import asyncio
import http.client
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")

NOT_YET: tuple[type[BaseException], ...] = (OSError, ValueError, http.client.HTTPException)


class _Attempts:
    """The shared loop: attempt, then the pause before the next one, until the deadline."""

    def __init__(self, timeout: float, what: str, every: float) -> None:
        self.deadline = time.monotonic() + timeout
        self.timeout = timeout
        self.what = what
        self.every = every
        self.last_error: BaseException | None = None

    def pauses(self) -> Iterator[float]:
        while True:
            left = self.deadline - time.monotonic()
            if left <= 0:
                cause = f" (last error: {self.last_error!r})" if self.last_error else ""
                raise AssertionError(
                    f"timed out after {self.timeout}s waiting for {self.what}{cause}"
                )
            yield min(self.every, left)

    def attempt(self, check: Callable[[], T | None]) -> T | None:
        try:
            return check()
        except NOT_YET as exc:
            self.last_error = exc
            return None


def wait_for(check: Callable[[], T | None], timeout: float, what: str, *, every: float = 0.05) -> T:
    """``check()``'s first truthy value, polled every ``every`` seconds for ``timeout``."""
    attempts = _Attempts(timeout, what, every)
    for pause in attempts.pauses():
        result = attempts.attempt(check)
        if result:
            return result
        time.sleep(pause)
    raise AssertionError("unreachable")


async def until(
    check: Callable[[], T | None], timeout: float, what: str, *, every: float = 0.02
) -> T:
    """:func:`wait_for` for a coroutine: the event loop keeps running between attempts."""
    attempts = _Attempts(timeout, what, every)
    for pause in attempts.pauses():
        result = attempts.attempt(check)
        if result:
            return result
        await asyncio.sleep(pause)
    raise AssertionError("unreachable")
