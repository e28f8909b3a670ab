"""Content-keyed caches: a resource with the same inputs is built once and shared.

Keys are tuples of everything a resource's content depends on (names, protocol, the
canonical JSON of each effective conf that hooks it). Listeners, route configs and
clusters keep their entries across compiles (a key fully determines the content);
endpoint assignments depend on the Dataplanes, so they are rebuilt on every compile.

Between compiles a long-running compiler (``serve``) calls :meth:`Shared.release`: every
entry then holds its proto messages as their encoding (a few hundred bytes each instead of
the message's arena) and the next compile that uses an entry decodes it once, an equal
message shared by the proxies of that compile. The proxies hold their resources encoded
too (``snapshot.compact``), so a released entry counts as held while a proxy compiled in
the run that last used it is still served (:meth:`Shared.start_run`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from google.protobuf.message import Message

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
the whole mesh's listeners per commit, would otherwise keep one generation per commit.
A released entry (:class:`Released`) is held while a proxy compiled in the run that last
used it is live."""


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


@dataclass(frozen=True, slots=True)
class _Encoded:
    cls: Any
    data: bytes


@dataclass(frozen=True, slots=True)
class Released:
    """A cache value between compiles: its messages (the value, or items of a tuple value)
    as their class and encoding."""

    value: Any

    @classmethod
    def of(cls, value: Any) -> Released:
        return cls(_encode(value))

    def restore(self) -> Any:
        return _decode(self.value)


def _encode(value: Any) -> Any:
    if isinstance(value, Message):
        return _Encoded(type(value), value.SerializeToString())
    if type(value) is tuple:
        return tuple(_encode(item) for item in value)
    return value


def _decode(value: Any) -> Any:
    if type(value) is _Encoded:
        return value.cls.FromString(value.data)
    if type(value) is tuple:
        return tuple(_decode(item) for item in value)
    return value


def _interned(value: Any, parts: dict[Hashable, Hashable]) -> Any:
    """``value`` (a key) with its tuples and strings replaced by equal ones seen before."""
    if type(value) is tuple:
        value = tuple(_interned(item, parts) for item in value)
        return parts.setdefault(value, value)
    if type(value) is str:
        return parts.setdefault(value, value)
    return value


@dataclass(slots=True)
class Counter:
    built: int = 0
    shared: int = 0


@dataclass(slots=True)
class SharedCache:
    entries: dict[Hashable, Any] = field(default_factory=dict)
    """Key -> the value, or its :class:`Released` form between compiles."""
    counter: Counter = field(default_factory=Counter)
    used: dict[Hashable, int] = field(default_factory=dict)
    """Key -> the last run that built or shared it."""
    run: int = 0
    restored: dict[Hashable, Released] = field(default_factory=dict)
    """Entries decoded in this run, by their released form (released again without
    encoding: cached values are never modified)."""
    parts: dict[Hashable, Hashable] = field(default_factory=dict)
    """Until the next release: one object per equal tuple or string inside the keys stored
    (keys repeat the same confs: the kept keys hold each once)."""

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        hit = self.entries.get(key)
        if hit is not None:
            if type(hit) is Released:
                self.restored[key] = hit
                hit = self.entries[key] = hit.restore()
            self.counter.shared += 1
            self.used[key] = self.run
            return hit  # type: ignore[no-any-return]
        if len(self.entries) >= MAX_ENTRIES:
            self.entries.clear()
            self.used.clear()
            self.restored.clear()
        value = build()
        key = _interned(key, self.parts)
        self.entries[key] = value
        self.used[key] = self.run
        self.counter.built += 1
        return value

    def release(self) -> None:
        """Hold every entry's messages as their encoding until a compile uses it again."""
        restored = self.restored
        for key, value in self.entries.items():
            if type(value) is not Released:
                found = restored.get(key)
                self.entries[key] = found if found is not None else Released.of(value)
        restored.clear()
        self.parts.clear()

    def next_run(self, live_runs: frozenset[int] = frozenset()) -> None:
        """A new compile starts: forget entries unused for :data:`KEEP_RUNS` runs that
        nothing else holds (a released entry: no proxy of ``live_runs``, the runs that
        compiled the proxies still served, was compiled in the run that last used it)."""
        self.run += 1
        oldest = self.run - KEEP_RUNS
        entries = self.entries
        # (held_elsewhere counts references: it is called here directly, as calibrated)
        stale = [
            key
            for key, run in self.used.items()
            if run < oldest
            and not (
                run in live_runs if type(entries[key]) is Released else held_elsewhere(entries[key])
            )
        ]
        for key in stale:
            del self.entries[key]
            del self.used[key]
            self.restored.pop(key, None)
        self.counter = Counter()


_ALONE = _refcount_alone()


@dataclass(slots=True)
class Shared:
    listeners: SharedCache = field(default_factory=SharedCache)
    routes: SharedCache = field(default_factory=SharedCache)
    clusters: SharedCache = field(default_factory=SharedCache)
    assignments: SharedCache = field(default_factory=SharedCache)

    def start_run(self, live_runs: frozenset[int] = frozenset()) -> int:
        """Called at the start of every compile: endpoints may have changed, counters reset,
        entries unused for :data:`KEEP_RUNS` compiles that nothing else holds dropped
        (``live_runs``: the runs that compiled the proxies still served, see
        :meth:`SharedCache.next_run`). Returns the new run's number."""
        self.assignments.entries.clear()
        self.assignments.used.clear()
        for cache in (self.listeners, self.routes, self.clusters, self.assignments):
            cache.next_run(live_runs)
        return self.listeners.run

    def release(self) -> None:
        """Between compiles: every cache holds its messages encoded (see the module
        docstring); endpoint assignments, rebuilt by every compile, are dropped."""
        self.assignments.entries.clear()
        self.assignments.used.clear()
        self.assignments.restored.clear()
        for cache in (self.listeners, self.routes, self.clusters):
            cache.release()

    def stats(self) -> dict[str, Counter]:
        return {
            "listeners": self.listeners.counter,
            "routes": self.routes.counter,
            "clusters": self.clusters.counter,
            "endpoints": self.assignments.counter,
        }
