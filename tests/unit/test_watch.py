"""--watch: event filter, debounce (quiet period, max wait) and a real inotify watcher."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from polling import wait_for

from reconciler.serve.watch import Debouncer, TreeWatcher, is_relevant

ROOT = Path("/srv/mesh")


@pytest.mark.parametrize(
    ("path", "is_dir", "relevant"),
    [
        ("/srv/mesh/a.yaml", False, True),
        ("/srv/mesh/sub/b.yml", False, True),
        ("/srv/mesh/c.json", False, True),
        ("/srv/mesh/README.md", False, False),
        ("/srv/mesh/.git/index", False, False),
        ("/srv/mesh/.git/refs/heads/x.yaml", False, False),
        ("/srv/mesh/.a.yaml.swp", False, False),
        ("/srv/mesh/a.yaml~", False, False),
        ("/srv/mesh/4913", False, False),
        ("/srv/mesh/a.yaml.tmp", False, False),
        ("/srv/mesh/.#a.yaml", False, False),
        ("/srv/mesh/newdir", True, True),
        ("/srv/mesh/.git", True, False),
        ("/elsewhere/a.yaml", False, False),
    ],
)
def test_is_relevant(path: str, is_dir: bool, relevant: bool) -> None:
    assert is_relevant(ROOT, path, is_directory=is_dir) is relevant


def test_deadline_is_quiet_period_capped_by_max_wait() -> None:
    now = [100.0]
    d = Debouncer(lambda: None, quiet_s=0.3, max_wait_s=2.0, clock=lambda: now[0])
    assert d.deadline() is None
    d.poke()
    assert d.deadline() == pytest.approx(100.3)
    now[0] = 100.2
    d.poke()
    assert d.deadline() == pytest.approx(100.5)
    now[0] = 101.9
    d.poke()
    assert d.deadline() == pytest.approx(102.0)  # max wait since the first event


def _collect(quiet_s: float, max_wait_s: float) -> tuple[Debouncer, list[float], threading.Event]:
    fired: list[float] = []
    event = threading.Event()

    def callback() -> None:
        fired.append(time.monotonic())
        event.set()

    return Debouncer(callback, quiet_s=quiet_s, max_wait_s=max_wait_s), fired, event


def test_a_burst_fires_once() -> None:
    d, fired, event = _collect(0.1, 2.0)
    d.start()
    try:
        for _ in range(200):
            d.poke()
        assert event.wait(5)
        assert d.deadline() is None  # nothing left pending: no second callback can come
    finally:
        d.stop()
    assert len(fired) == 1


def test_continuous_events_still_fire_after_max_wait() -> None:
    d, fired, _ = _collect(0.2, 0.3)
    d.start()
    try:
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            d.poke()
            time.sleep(0.02)  # never quiet for 0.2 s
    finally:
        d.stop()
    assert len(fired) >= 2


def test_a_failing_callback_does_not_stop_the_watch(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []
    done = threading.Event()

    def callback() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        done.set()

    d = Debouncer(callback, quiet_s=0.05, max_wait_s=1.0)
    d.start()
    try:
        d.poke()
        wait_for(lambda: calls, 5, "the first (failing) rescan", every=0.01)
        d.poke()
        assert done.wait(5)
    finally:
        d.stop()
    assert "rescan failed" in caplog.text


def test_tree_watcher_sees_resource_writes_not_git_or_swap_files(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "mesh").mkdir()
    changes: list[float] = []
    fired = threading.Event()

    def on_change() -> None:
        changes.append(time.monotonic())
        fired.set()

    watcher = TreeWatcher(tmp_path, on_change, quiet_s=0.1, max_wait_s=1.0)
    pokes: list[str] = []
    poke = watcher.debouncer.poke

    def counted() -> None:  # every event the filter lets through
        pokes.append("poke")
        poke()

    watcher.debouncer.poke = counted  # type: ignore[method-assign]
    watcher.start()
    try:
        (tmp_path / ".git" / "index").write_text("x")
        (tmp_path / ".git" / "refs.yaml").write_text("x")  # a resource suffix, under .git
        (tmp_path / "mesh" / ".a.yaml.swp").write_text("x")
        (tmp_path / "notes.md").write_text("x")
        # events arrive in order: once the new directory is seen, the writes above were too
        (tmp_path / "mesh" / "new").mkdir()
        assert fired.wait(5)
        assert pokes == ["poke"], "only the new directory: .git, swap files, notes.md ignored"
        fired.clear()
        (tmp_path / "mesh" / "a.yaml").write_text("type: Mesh\nname: default\n")
        assert fired.wait(5)
        fired.clear()
        tmp = tmp_path / "mesh" / "b.yaml.tmp"
        tmp.write_text("x: 1\n")
        tmp.replace(tmp_path / "mesh" / "b.yaml")  # an editor's atomic save
        assert fired.wait(5)
    finally:
        watcher.stop()
    assert len(changes) == 3
