"""Keep the C heap small: few allocator arenas, free pages given back after a build.

A cold start parses every file and compiles every proxy: hundreds of MB of short-lived
objects, freed when the build ends. glibc's allocator keeps freed memory in its arenas (one
per thread that allocated, and the build runs in a worker thread), so without a trim the
server stays as large as its peak. ``malloc_trim(0)`` returns every free page of every arena
(a few ms). glibc also gives each thread that allocates its own arena, up to 8 per core
(gRPC's threads, the build thread, the event loop), each holding its own free and
fragmented space; :func:`limit_arenas` caps them at :data:`ARENAS` at start. Elsewhere than
glibc both do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from collections.abc import Callable
from functools import cache
from typing import Any

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
