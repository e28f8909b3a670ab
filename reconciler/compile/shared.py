"""Content-keyed caches: a resource with the same inputs is built once and shared.

Keys are tuples of everything a resource's content depends on (names, protocol, the
canonical JSON of each effective conf that hooks it). Listeners, route configs and
clusters keep their entries across compiles (a key fully determines the content);
endpoint assignments depend on the Dataplanes, so they are rebuilt on every compile.

Between compiles a long-running compiler (``serve``) calls :meth:`Shared.release`: every
entry then holds its proto messages as their encoding (a few hundred bytes each instead of
the message's arena) and the next compile that uses an entry decodes it once, an equal
message shared by the proxies of that compile.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from google.protobuf.message import Message

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

    def next_run(self) -> None:
        """A new compile starts: forget entries unused for :data:`KEEP_RUNS` runs."""
        self.run += 1
        oldest = self.run - KEEP_RUNS
        stale = [key for key, run in self.used.items() if run < oldest]
        for key in stale:
            del self.entries[key]
            del self.used[key]
            self.restored.pop(key, None)
        self.counter = Counter()


def _interned(value: Any, parts: dict[Hashable, Hashable]) -> Any:
    """``value`` (a key) with its tuples and strings replaced by equal ones seen before."""
    if type(value) is tuple:
        value = tuple(_interned(item, parts) for item in value)
        return parts.setdefault(value, value)
    if type(value) is str:
        return parts.setdefault(value, value)
    return value


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
