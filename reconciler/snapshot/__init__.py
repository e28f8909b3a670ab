"""Stage ``snapshot``: per-proxy configuration, serialized once and versioned by content.

Input: ``dict[node_id, ProxyConfig]`` (typed Envoy messages from compile). Output:
:class:`Snapshot` objects in a :class:`SnapshotCache` that the xDS server reads. It checks
consistency before anything is published (:func:`check_consistency`) and never imports the
compiler or the server.
"""

from __future__ import annotations

from reconciler.snapshot import wire
from reconciler.snapshot.build import build_snapshots
from reconciler.snapshot.cache import PublishResult, ResponseCache, SnapshotCache
from reconciler.snapshot.consistency import Inconsistency, check_consistency
from reconciler.snapshot.snapshot import (
    Encoded,
    EncodedResources,
    Interner,
    Snapshot,
    TypeSnapshot,
    build_snapshot,
    compact,
    content_hash,
)

__all__ = [
    "Encoded",
    "EncodedResources",
    "Inconsistency",
    "Interner",
    "PublishResult",
    "ResponseCache",
    "Snapshot",
    "SnapshotCache",
    "TypeSnapshot",
    "build_snapshot",
    "build_snapshots",
    "check_consistency",
    "compact",
    "content_hash",
    "wire",
]
