"""The server's C heap settings (glibc): arenas capped at start unless the environment says."""

from __future__ import annotations

import platform
import sys

import pytest

from reconciler.serve import heap

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="glibc only")
def test_arenas_are_capped_on_glibc() -> None:
    assert heap.limit_arenas() is True
    assert heap.release_free_memory() is True


def test_an_arena_count_from_the_environment_is_left_to_glibc(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert heap.limit_arenas() is False
