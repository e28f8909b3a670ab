"""The snapshot cache: the current snapshot of every proxy, and who to tell when it changes.

Contract (the ADS servicer depends on this, never on the compiler):

* :meth:`SnapshotCache.publish` replaces the whole set atomically (one revision at a time).
  A proxy whose content did not change keeps its snapshot object and its watchers are not
  woken: unchanged content is never re-pushed. Versions are content hashes, so a type whose
  content did not change keeps its version whatever else changed.
* :meth:`SnapshotCache.watch` registers a callback per node id, called (on the event loop
  thread) after a publish that changed or removed that node's snapshot.
* Everything runs on one asyncio loop thread; nothing here blocks or locks.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from reconciler.resource_types import TypeUrl
from reconciler.snapshot import wire
from reconciler.snapshot.snapshot import Interner, Snapshot, TypeSnapshot


@dataclass(frozen=True, slots=True)
class PublishResult:
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: int


class SnapshotCache:
    def __init__(self) -> None:
        self.interner = Interner()
        self.responses = ResponseCache()
        self._snapshots: dict[str, Snapshot] = {}
        self._watchers: dict[str, dict[int, Callable[[], None]]] = {}
        self._next_watch = 0
        self.ready = False
        self.published_at = 0.0
        """``time.monotonic()`` of the last publish that changed something."""

    def get(self, node_id: str) -> Snapshot | None:
        return self._snapshots.get(node_id)

    def node_ids(self) -> list[str]:
        return sorted(self._snapshots)

    def versions(self) -> list[str]:
        """Every version served now (any proxy, any type), sorted."""
        snapshots = list(self._snapshots.values())  # one reference: publish may swap the dict
        return sorted({ts.version for snap in snapshots for ts in snap.types.values()})

    def publish(self, snapshots: Mapping[str, Snapshot]) -> PublishResult:
        changed: list[str] = []
        fresh: dict[str, Snapshot] = {}
        for node_id, snap in snapshots.items():
            old = self._snapshots.get(node_id)
            if old is not None and (old is snap or old.content == snap.content):
                fresh[node_id] = old
                continue
            fresh[node_id] = snap
            changed.append(node_id)
        removed = [n for n in self._snapshots if n not in fresh]
        self._snapshots = fresh
        self.ready = True
        if changed or removed:
            self.published_at = time.monotonic()
        for node_id in (*changed, *removed):
            for callback in list(self._watchers.get(node_id, {}).values()):
                callback()
        return PublishResult(tuple(changed), tuple(removed), len(fresh) - len(changed))

    def watch(self, node_id: str, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` when ``node_id``'s snapshot changes; returns the un-watch function."""
        key = self._next_watch
        self._next_watch += 1
        self._watchers.setdefault(node_id, {})[key] = callback

        def cancel() -> None:
            watchers = self._watchers.get(node_id)
            if watchers is not None:
                watchers.pop(key, None)
                if not watchers:
                    del self._watchers[node_id]

        return cancel


class ResponseCache:
    """SotW response bodies (everything but the nonce) by (type, content, version, names).

    A thousand proxies with the same clusters share one encoded CDS body; building it costs a
    ``b"".join`` over already-serialized resources, once. A body is kept from the second time
    it is asked for: the first time only its key's hash is remembered (a bounded number of
    them), so the bodies only one proxy receives (its listeners, its secrets) are never held,
    a copy of resources the snapshots already hold, and are built again, for a few
    microseconds, if that proxy asks again. Bounded by the bytes it holds (least recently
    used first out).
    """

    def __init__(self, max_bytes: int = 4 << 20, max_seen: int = 16384) -> None:
        self.max_bytes = max_bytes
        self.max_seen = max_seen
        self._bodies: OrderedDict[tuple[object, ...], bytes] = OrderedDict()
        self._seen: dict[int, None] = {}
        """Hashes of the keys asked for once (oldest first; a collision only keeps a body
        one request early)."""
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    @property
    def held_bytes(self) -> int:
        """The bytes of the bodies held now (at most :attr:`max_bytes`)."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._bodies)

    def sotw_body(
        self, type_url: TypeUrl, snap: TypeSnapshot, names: frozenset[str] | None
    ) -> bytes:
        """The response for subscription ``names`` (None: wildcard, every resource).

        Keyed by the subscription itself (a frozenset hashes once and streams share equal
        ones), so a hit sorts nothing; the resources are selected on a miss only."""
        key = (type_url, snap.content, snap.version, names)
        body = self._bodies.get(key)
        if body is not None:
            self.hits += 1
            self._bodies.move_to_end(key)
            return body
        self.misses += 1
        selected = (
            sorted(snap.resources)
            if names is None
            else sorted(n for n in names if n in snap.resources)
        )
        body = wire.sotw_body(
            snap.version, str(type_url), (snap.resources[n].any_bytes for n in selected)
        )
        seen = hash(key)
        if seen not in self._seen:
            self._seen[seen] = None
            if len(self._seen) > self.max_seen:
                del self._seen[next(iter(self._seen))]
            return body
        if len(body) <= self.max_bytes:
            self._bodies[key] = body
            self._bytes += len(body)
            while self._bytes > self.max_bytes:
                _, dropped = self._bodies.popitem(last=False)
                self._bytes -= len(dropped)
        return body
