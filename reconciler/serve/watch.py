"""``--watch``: rescan a local working tree shortly after it changes (watchdog).

Events are hints, never deltas: a burst of them (an editor's save, a ``git checkout``) is
debounced into one callback, 300 ms after the last event or 2 s after the first one at the
latest, and the callback rescans the whole tree (level-triggered, so missed events are
harmless). ``.git`` and other hidden paths, editor swap/backup files and reads are ignored,
otherwise our own reads and git's bookkeeping would re-trigger the watch.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path, PurePath

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from reconciler.load.files import RESOURCE_SUFFIXES

log = logging.getLogger(__name__)

QUIET_S = 0.3
MAX_WAIT_S = 2.0
EVENT_TYPES: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    FileClosedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
]
"""Writes only: opened / closed-without-write events (our own reads) are not delivered."""
_EDITOR_SUFFIXES = (".tmp", ".swp", ".swx", ".swo", "~", ".bak", ".orig")


def is_relevant(root: Path, path: str | bytes, *, is_directory: bool) -> bool:
    """True when a change at ``path`` can change what the tree serves."""
    text = os.fsdecode(path)
    try:
        rel = PurePath(text).relative_to(root)
    except ValueError:
        return False
    parts = rel.parts
    if any(p.startswith(".") for p in parts):
        return False  # .git, .github, editor's .#lock files, hidden dirs
    if is_directory:
        return True
    name = parts[-1] if parts else ""
    if name == "4913" or name.endswith(_EDITOR_SUFFIXES):
        return False  # vim's write test, swap and backup files
    return name.endswith(RESOURCE_SUFFIXES)


class Debouncer:
    """Calls ``callback`` once per burst of :meth:`poke` calls, on its own thread."""

    def __init__(
        self,
        callback: Callable[[], None],
        *,
        quiet_s: float = QUIET_S,
        max_wait_s: float = MAX_WAIT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.callback = callback
        self.quiet_s = quiet_s
        self.max_wait_s = max_wait_s
        self.clock = clock
        self._cond = threading.Condition()
        self._first: float | None = None
        self._last = 0.0
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="watch-debounce", daemon=True)

    def poke(self) -> None:
        with self._cond:
            now = self.clock()
            if self._first is None:
                self._first = now
            self._last = now
            self._cond.notify()

    def deadline(self) -> float | None:
        """When the pending burst fires (None when nothing is pending)."""
        if self._first is None:
            return None
        return min(self._last + self.quiet_s, self._first + self.max_wait_s)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._stopped:
                        return
                    due = self.deadline()
                    now = self.clock()
                    if due is not None and now >= due:
                        self._first = None
                        break
                    self._cond.wait(None if due is None else due - now)
            try:
                self.callback()
            except Exception:
                log.exception("watch: rescan failed")


class _Handler(FileSystemEventHandler):
    def __init__(self, root: Path, debouncer: Debouncer) -> None:
        self.root = root
        self.debouncer = debouncer

    def on_any_event(self, event: FileSystemEvent) -> None:
        paths = [event.src_path]
        dest = getattr(event, "dest_path", "")
        if dest:
            paths.append(dest)
        if any(is_relevant(self.root, p, is_directory=event.is_directory) for p in paths):
            self.debouncer.poke()


class TreeWatcher:
    """Watches ``root`` recursively and calls ``on_change`` (debounced) after writes."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        on_change: Callable[[], None],
        *,
        quiet_s: float = QUIET_S,
        max_wait_s: float = MAX_WAIT_S,
    ) -> None:
        self.root = Path(root).resolve()
        self.debouncer = Debouncer(on_change, quiet_s=quiet_s, max_wait_s=max_wait_s)
        self._observer: BaseObserver = Observer()
        self._observer.schedule(
            _Handler(self.root, self.debouncer),
            str(self.root),
            recursive=True,
            event_filter=EVENT_TYPES,
        )

    def start(self) -> None:
        self.debouncer.start()
        self._observer.start()

    def stop(self) -> None:
        self._observer.stop()
        self._observer.join(5.0)
        self.debouncer.stop()
