"""Diff of Kuma source resources: matched by ``(type, mesh, name)``, compared on their data."""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.diff.changes import Action, SourceChange
from reconciler.diff.fields import diff_values
from reconciler.model import Resource, ResourceKey


def _sort_key(key: ResourceKey) -> tuple[str, str, str]:
    return (key.type, key.mesh or "", key.name)


def _identical(was: Resource, now: Resource) -> bool:
    """Cheap exact check (C-level ``==`` and ``repr``; repr tells ``True`` from ``1``)."""
    if was.data is now.data:
        return True
    return bool(was.data == now.data and repr(was.data) == repr(now.data))


def diff_sources(before: Iterable[Resource], after: Iterable[Resource]) -> list[SourceChange]:
    """Created, configured and deleted resources, sorted by type, mesh, name.

    A resource that only moved to another file, or whose YAML only changed in layout
    (comments, key order, quoting), is not a change: only the data counts.
    """
    old = {r.key: r for r in before}
    new = {r.key: r for r in after}
    changes: list[SourceChange] = []
    for key in sorted(old.keys() | new.keys(), key=_sort_key):
        was, now = old.get(key), new.get(key)
        if was is None and now is not None:
            changes.append(SourceChange(key, Action.CREATED, now.file, now.position.line))
        elif now is None and was is not None:
            changes.append(SourceChange(key, Action.DELETED, was.file, was.position.line))
        elif was is not None and now is not None and not _identical(was, now):
            fields = diff_values(dict(was.data), dict(now.data))
            if fields:
                changes.append(
                    SourceChange(key, Action.CONFIGURED, now.file, now.position.line, tuple(fields))
                )
    return changes
