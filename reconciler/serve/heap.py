"""Keep the heap small and the collector off the push path.

* **Allocator**: few arenas, free pages given back after a build.
* **Garbage collector** (:class:`Collector`): a revision's objects are frozen once built.

A cold start parses every file and compiles every proxy: hundreds of MB of short-lived
objects, freed when the build ends. glibc's allocator keeps freed memory in its arenas (one
per thread that allocated, and the build runs in a worker thread), so without a trim the
server stays as large as its peak. ``malloc_trim(0)`` returns every free page of every arena
(a few ms). glibc also gives each thread that allocates its own arena, up to 8 per core
(gRPC's threads, the build thread, the event loop), each holding its own free and
fragmented space; :func:`limit_arenas` caps them at :data:`ARENAS` at start. Elsewhere than
glibc both do nothing.

Python's cyclic garbage collector scans every tracked object in a full collection: about
400,000 of them once a 1,000-proxy revision is built, 0.7 s with the GIL held, all streams
waiting. The build pauses it, and the allocations it makes a full collection due right
after, so it landed on the push of the revision just applied or on the next proxies'
connects. :class:`Collector` freezes (``gc.freeze``) what a build leaves: later collections
scan only what is new. Objects freed by reference counting (nearly everything a revision
replaces) still go at once; cyclic garbage among frozen objects waits for the next full
collection, made at the start of a build (in the worker thread, before the revision's work)
once the frozen set has grown by :data:`FREEZE_GROWTH` since the last one.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import sys
from collections.abc import Callable
from functools import cache
from typing import Any

FREEZE_GROWTH = 1.25
"""A full collection runs before a build once the frozen objects are this many times those
frozen right after the last full collection (cyclic garbage bounded to a quarter)."""

ARENAS = 2
"""glibc malloc arenas a server uses (its default: 8 per core): with 1,000 connected
proxies, 2 instead of 16 on 2 cores keeps about 10 MB less resident (``bench/memory.py``,
BENCHMARKS.md "Memory, third pass")."""

_M_ARENA_MAX = -8  # glibc <malloc.h>


@cache
def _libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def _glibc(name: str) -> Callable[..., int] | None:
    try:
        function: Callable[..., int] = getattr(_libc(), name)  # glibc only (not musl)
    except AttributeError:
        return None
    return function


def _malloc_trim() -> Callable[[int], int] | None:
    return _glibc("malloc_trim")


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas (call before threads start); False where not possible or
    when ``MALLOC_ARENA_MAX`` is set in the environment (then glibc uses that)."""
    mallopt = _glibc("mallopt")
    if mallopt is None or "MALLOC_ARENA_MAX" in os.environ:
        return False
    return bool(mallopt(_M_ARENA_MAX, arenas))


def release_free_memory() -> bool:
    """Return the allocator's free pages to the system; False where that is not possible."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


class Collector:
    """Freezes each build's objects; a full collection before a build when the frozen set
    has grown by :data:`FREEZE_GROWTH` (see the module docstring). One per server process."""

    def __init__(self) -> None:
        self.baseline = 0
        """Frozen objects right after the last full collection (0: none yet)."""
        self.collections = 0

    def before_build(self) -> bool:
        """Collect everything now if the frozen set grew past its bound; True if it did."""
        frozen = gc.get_freeze_count()
        if not frozen or frozen <= self.baseline * FREEZE_GROWTH:
            return False
        gc.unfreeze()
        gc.collect()
        self.baseline = 0
        self.collections += 1
        return True

    def after_build(self) -> None:
        """Freeze what the build left (the revision being published, the caches)."""
        gc.freeze()
        if not self.baseline:
            self.baseline = gc.get_freeze_count()
