"""Stage ``diff``: (before, after) -> a :class:`ChangeSet`.

Input: two sets of source resources (keyed by ``ResourceKey``) and two sets of compiled
proxies (``{node id: ProxyConfig}``). Output: created/configured/deleted items with
field-level changes (Kuma field paths for sources, proto JSON paths for Envoy resources).
It never reads files, runs git, compiles or prints; formatting is ``reconciler.report``'s job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from reconciler.diff.changes import (
    JSON_VERSION,
    Action,
    ChangeSet,
    Partial,
    ProxyChange,
    ResourceChange,
    SourceChange,
)
from reconciler.diff.fields import MISSING, FieldChange, diff_values
from reconciler.diff.proxies import diff_proxies, diff_proxy, proto_json
from reconciler.diff.sources import diff_sources
from reconciler.model import Resource
from reconciler.resource_types import ProxyConfig

__all__ = [
    "JSON_VERSION",
    "MISSING",
    "Action",
    "ChangeSet",
    "FieldChange",
    "Partial",
    "ProxyChange",
    "ResourceChange",
    "SourceChange",
    "diff_proxies",
    "diff_proxy",
    "diff_revisions",
    "diff_sources",
    "diff_values",
    "proto_json",
]


def diff_revisions(
    *,
    sources: tuple[Iterable[Resource], Iterable[Resource]],
    proxies: tuple[Mapping[str, ProxyConfig], Mapping[str, ProxyConfig]],
    partial: Partial | None = None,
    base: str | None = None,
    head: str | None = None,
    notes: Iterable[str] = (),
) -> ChangeSet:
    """The whole change set between two revisions (each pair is ``(before, after)``)."""
    source_changes = diff_sources(*sources)
    proxy_changes, unchanged = diff_proxies(*proxies)
    return ChangeSet(
        sources=tuple(source_changes),
        proxies=tuple(proxy_changes),
        unchanged_proxies=tuple(unchanged),
        partial=partial,
        base=base,
        head=head,
        notes=tuple(notes),
    )
