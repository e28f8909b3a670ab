"""Give the C heap's free pages back to the operating system after a revision is built.

A cold start parses every file and compiles every proxy: hundreds of MB of short-lived
objects, freed when the build ends. glibc's allocator keeps freed memory in its arenas (one
per thread that allocated, and the build runs in a worker thread), so without a trim the
server stays as large as its peak. ``malloc_trim(0)`` returns every free page of every arena
(a few ms); elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable
from functools import cache


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim  # glibc only (not musl)
    except (OSError, AttributeError):
        return None
    return trim


def release_free_memory() -> bool:
    """Return the allocator's free pages to the system; False where that is not possible."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
