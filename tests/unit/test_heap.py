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


def test_collector_freezes_builds_and_collects_cycles_once_the_frozen_set_grows() -> None:
    import gc
    import weakref

    from reconciler.serve.heap import FREEZE_GROWTH, Collector

    class Node:
        def __init__(self) -> None:
            self.peer: Node = self

    gc.collect()
    collector = Collector()
    try:
        assert not collector.before_build()  # nothing frozen yet
        kept = [Node() for _ in range(1000)]
        collector.after_build()
        baseline = collector.baseline
        assert baseline == gc.get_freeze_count() > 0
        cycle = Node()
        probe = weakref.ref(cycle)
        collector.after_build()  # the next build froze the cycle, then it became garbage
        del cycle
        gc.collect()
        assert probe() is not None  # frozen: a collection does not scan it
        assert not collector.before_build()  # grown by one object: under the bound
        garbage = [Node() for _ in range(int(baseline * FREEZE_GROWTH))]
        collector.after_build()
        del garbage
        assert collector.before_build()  # past the bound: unfrozen and collected
        assert probe() is None and collector.collections == 1
        assert gc.get_freeze_count() == 0 and collector.baseline == 0
        collector.after_build()
        assert collector.baseline == gc.get_freeze_count()
        assert all(n.peer is n for n in kept)
    finally:
        gc.unfreeze()
