"""Content-keyed caches: a resource with the same inputs is built once and shared.

Keys are tuples of everything a resource's content depends on (names, protocol, the
canonical JSON of each effective conf that hooks it). Listeners, route configs and
clusters keep their entries across compiles (a key fully determines the content);
endpoint assignments depend on the Dataplanes, so they are rebuilt on every compile.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

MAX_ENTRIES = 200_000
"""Past this many entries a cache is emptied (entries are only a speed-up)."""

KEEP_RUNS = 1
"""An entry no compile used in the last this many runs is dropped once nothing outside the
cache holds it any more (:func:`held_elsewhere`: no compiled proxy configuration, kept
build or trace references the object). Entries that live configurations still hold stay
whatever their age (the incremental compiler does not revisit proxies a commit does not
reach, so their resources are not "used"; keeping them costs nothing, as the proxies keep
the objects alive, and a later recompile shares them instead of building equal copies).
What nobody holds is a past generation: a server changing one policy value per commit, or
the whole mesh's listeners per commit, would otherwise keep one generation per commit."""


def _refcount_alone() -> tuple[int, int]:
    """What :func:`_refs` counts for a value only a cache dict holds (plain, in a tuple)."""
    plain: dict[int, object] = {0: object()}
    wrapped: dict[int, tuple[object]] = {0: (object(),)}
    return _refs_in_frame(plain[0]), _refs_in_frame(wrapped[0])


def _refs_in_frame(value: object) -> int:
    """:func:`_refs` called from one frame holding ``value``, as :func:`held_elsewhere`."""
    return _refs(value)


def _refs(value: object) -> int:
    if type(value) is tuple:
        return sys.getrefcount(value[0])
    return sys.getrefcount(value)


def held_elsewhere(value: object) -> bool:
    """Whether anything but the cache holds ``value`` (for a tuple, its first item: a cached
    route configuration comes with its traces, and proxies hold the configuration)."""
    return _refs(value) > (_ALONE[1] if type(value) is tuple else _ALONE[0])


@dataclass(slots=True)
class Counter:
    built: int = 0
    shared: int = 0


@dataclass(slots=True)
class SharedCache:
    entries: dict[Hashable, Any] = field(default_factory=dict)
    counter: Counter = field(default_factory=Counter)
    used: dict[Hashable, int] = field(default_factory=dict)
    """Key -> the last run that built or shared it."""
    run: int = 0

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        hit = self.entries.get(key)
        if hit is not None:
            self.counter.shared += 1
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
        """A new compile starts: forget entries unused for :data:`KEEP_RUNS` runs that
        nothing else holds."""
        self.run += 1
        oldest = self.run - KEEP_RUNS
        entries = self.entries
        stale = [
            key
            for key, run in self.used.items()
            if run < oldest and not held_elsewhere(entries[key])
        ]
        for key in stale:
            del self.entries[key]
            del self.used[key]
        self.counter = Counter()


_ALONE = _refcount_alone()


@dataclass(slots=True)
class Shared:
    listeners: SharedCache = field(default_factory=SharedCache)
    routes: SharedCache = field(default_factory=SharedCache)
    clusters: SharedCache = field(default_factory=SharedCache)
    assignments: SharedCache = field(default_factory=SharedCache)

    def start_run(self) -> None:
        """Called at the start of every compile: endpoints may have changed, counters reset,
        entries unused for :data:`KEEP_RUNS` compiles that nothing else holds dropped."""
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
