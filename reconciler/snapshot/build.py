"""From compiled configs to snapshots: check everything, then serialize everything."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.resource_types import ProxyConfig
from reconciler.snapshot.consistency import Inconsistency, check_consistency
from reconciler.snapshot.snapshot import (
    EdsNames,
    Encoded,
    Interner,
    Snapshot,
    TypeSets,
    build_snapshot,
)


def build_snapshots(
    configs: Mapping[str, ProxyConfig], interner: Interner
) -> tuple[dict[str, Snapshot], list[Inconsistency]]:
    """Snapshots of every proxy, or (``{}``, problems) if any config is inconsistent.

    A revision is published whole or not at all, so one inconsistent proxy stops them all.
    """
    problems = [p for config in configs.values() for p in check_consistency(config)]
    if problems:
        return {}, problems
    memo: dict[int, tuple[Any, Encoded]] = {}
    sets: TypeSets = {}
    eds: EdsNames = {}
    return {
        node_id: build_snapshot(config, interner, memo=memo, sets=sets, eds=eds)
        for node_id, config in configs.items()
    }, []
