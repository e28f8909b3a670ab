"""Content-keyed caches: a resource with the same inputs is built once and shared.

Keys are tuples of everything a resource's content depends on (names, protocol, the
canonical JSON of each effective conf that hooks it). Listeners, route configs and
clusters keep their entries across compiles (a key fully determines the content);
endpoint assignments depend on the Dataplanes, so they are rebuilt on every compile.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

MAX_ENTRIES = 200_000
"""Past this many entries a cache is emptied (entries are only a speed-up)."""

KEEP_RUNS = 8
"""An entry no compile used in the last this many runs is dropped: a long-running server
changing one policy value per commit would otherwise keep every value's listeners and
clusters. Proxies that still reference such an object keep it alive themselves; a later
recompile of them only builds an equal object again."""


@dataclass(slots=True)
class Counter:
    built: int = 0
    shared: int = 0


@dataclass(slots=True)
class SharedCache:
    entries: dict[Hashable, Any] = field(default_factory=dict)
    counter: Counter = field(default_factory=Counter)
    used: dict[Hashable, int] = field(default_factory=dict)
    """Key -> the last run that built or shared it, least recently used first (so dropping
    the stale ones costs what is dropped, not every entry)."""
    run: int = 0

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        hit = self.entries.get(key)
        if hit is not None:
            self.counter.shared += 1
            if self.used.get(key) != self.run:  # to the end: ``used`` stays oldest first
                del self.used[key]
                self.used[key] = self.run
            return hit  # type: ignore[no-any-return]
        if len(self.entries) >= MAX_ENTRIES:
            self.entries.clear()
            self.used.clear()
        value = build()
        self.entries[key] = value
        self.used[key] = self.run
        self.counter.built += 1
        return value

    def next_run(self) -> None:
        """A new compile starts: forget entries unused for :data:`KEEP_RUNS` runs."""
        self.run += 1
        oldest = self.run - KEEP_RUNS
        stale = []
        for key, run in self.used.items():  # oldest first: stops at the first one kept
            if run >= oldest:
                break
            stale.append(key)
        for key in stale:
            del self.entries[key]
            del self.used[key]
        self.counter = Counter()


@dataclass(slots=True)
class Shared:
    listeners: SharedCache = field(default_factory=SharedCache)
    routes: SharedCache = field(default_factory=SharedCache)
    clusters: SharedCache = field(default_factory=SharedCache)
    assignments: SharedCache = field(default_factory=SharedCache)

    def start_run(self) -> None:
        """Called at the start of every compile: endpoints may have changed, counters reset,
        entries unused for :data:`KEEP_RUNS` compiles dropped."""
        self.assignments.entries.clear()
        self.assignments.used.clear()
        for cache in (self.listeners, self.routes, self.clusters, self.assignments):
            cache.next_run()

    def stats(self) -> dict[str, Counter]:
        return {
            "listeners": self.listeners.counter,
            "routes": self.routes.counter,
            "clusters": self.clusters.counter,
            "endpoints": self.assignments.counter,
        }
