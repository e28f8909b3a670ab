"""The ChangeSet: what changed between two revisions, and its stable JSON form.

JSON form (``ChangeSet.to_json()``, ``"version": 1``; fields are only ever added)::

    {"version": 1, "base": str|null, "head": str|null,
     "summary": {"sources": {"created": n, "configured": n, "deleted": n},
                 "proxies": {"created": n, "configured": n, "deleted": n, "unchanged": n}},
     "sources": [{"action", "type", "mesh", "name", "file", "line",
                  "fields": [{"path", "op": "added|removed|changed", "old"?, "new"?}]}],
     "proxies": [{"node_id", "action",
                  "resources": [{"type_url", "type": "LDS|RDS|CDS|EDS|SDS", "name", "action",
                                 "fields": [...]}]}],
     "unchanged_proxies": [node_id, ...],
     "partial": null | {"left_out": [{"type", "mesh", "name"}], "files": [path, ...]}}

``edited_by`` (only when some) names the MeshProxyPatch modifications that edited a resource.
``fields`` lists leaf changes for ``configured`` items only; ``old``/``new`` are absent when
the field did not exist on that side. Secret (SDS) values are masked as ``*****``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.diff.fields import FieldChange
from reconciler.model import ResourceKey
from reconciler.resource_types import TypeUrl

JSON_VERSION = 1


class Action(StrEnum):
    CREATED = "created"
    CONFIGURED = "configured"
    DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class SourceChange:
    """A Kuma resource created, configured or deleted between the two revisions."""

    key: ResourceKey
    action: Action
    file: str | None = None
    """The file on the new side (the old side for a deletion)."""
    line: int | None = None
    fields: tuple[FieldChange, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action.value,
            **_key_json(self.key),
            "file": self.file,
            "line": self.line,
            "fields": [f.to_json() for f in self.fields],
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> SourceChange:
        return cls(
            key=ResourceKey(raw["type"], raw["mesh"], raw["name"]),
            action=Action(raw["action"]),
            file=raw.get("file"),
            line=raw.get("line"),
            fields=tuple(FieldChange.from_json(f) for f in raw.get("fields", ())),
        )


@dataclass(frozen=True, slots=True)
class ResourceChange:
    """One Envoy resource (by type URL and name) of one proxy."""

    type_url: TypeUrl
    name: str
    action: Action
    fields: tuple[FieldChange, ...] = ()
    edited_by: tuple[str, ...] = ()
    """The MeshProxyPatch modifications that added, changed or removed it on the side that
    has it last (``MeshProxyPatch <name> <field> (<file>:<line>)``)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "type_url": self.type_url.value,
            "type": self.type_url.short,
            "name": self.name,
            "action": self.action.value,
            "fields": [f.to_json() for f in self.fields],
            **({"edited_by": list(self.edited_by)} if self.edited_by else {}),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> ResourceChange:
        return cls(
            type_url=TypeUrl(raw["type_url"]),
            name=raw["name"],
            action=Action(raw["action"]),
            fields=tuple(FieldChange.from_json(f) for f in raw.get("fields", ())),
            edited_by=tuple(raw.get("edited_by", ())),
        )


@dataclass(frozen=True, slots=True)
class ProxyChange:
    """Everything that changes for one proxy (node id ``<mesh>.<dataplane>``)."""

    node_id: str
    action: Action
    resources: tuple[ResourceChange, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "action": self.action.value,
            "resources": [r.to_json() for r in self.resources],
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> ProxyChange:
        return cls(
            node_id=raw["node_id"],
            action=Action(raw["action"]),
            resources=tuple(ResourceChange.from_json(r) for r in raw["resources"]),
        )


@dataclass(frozen=True, slots=True)
class Partial:
    """The new revision had errors: these resources (and files) were left out of the diff."""

    left_out: tuple[ResourceKey, ...] = ()
    files: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"left_out": [_key_json(k) for k in self.left_out], "files": list(self.files)}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Partial:
        return cls(
            left_out=tuple(ResourceKey(k["type"], k["mesh"], k["name"]) for k in raw["left_out"]),
            files=tuple(raw["files"]),
        )


@dataclass(frozen=True, slots=True)
class ChangeSet:
    sources: tuple[SourceChange, ...] = ()
    proxies: tuple[ProxyChange, ...] = ()
    unchanged_proxies: tuple[str, ...] = ()
    partial: Partial | None = None
    base: str | None = None
    head: str | None = None
    notes: tuple[str, ...] = field(default=())
    """Remarks for readers (e.g. the base revision had errors of its own)."""

    @property
    def changed(self) -> bool:
        return bool(self.sources or self.proxies)

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            "sources": _count(self.sources),
            "proxies": {**_count(self.proxies), "unchanged": len(self.unchanged_proxies)},
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "version": JSON_VERSION,
            "base": self.base,
            "head": self.head,
            "summary": self.counts(),
            "sources": [s.to_json() for s in self.sources],
            "proxies": [p.to_json() for p in self.proxies],
            "unchanged_proxies": list(self.unchanged_proxies),
            "partial": self.partial.to_json() if self.partial else None,
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> ChangeSet:
        if raw.get("version") != JSON_VERSION:
            raise ValueError(f"unsupported change set version {raw.get('version')!r}")
        partial = raw.get("partial")
        return cls(
            sources=tuple(SourceChange.from_json(s) for s in raw["sources"]),
            proxies=tuple(ProxyChange.from_json(p) for p in raw["proxies"]),
            unchanged_proxies=tuple(raw["unchanged_proxies"]),
            partial=Partial.from_json(partial) if partial else None,
            base=raw.get("base"),
            head=raw.get("head"),
            notes=tuple(raw.get("notes", ())),
        )


def _key_json(key: ResourceKey) -> dict[str, Any]:
    return {"type": key.type, "mesh": key.mesh, "name": key.name}


def _count(items: Sequence[SourceChange] | Sequence[ProxyChange]) -> dict[str, int]:
    counts = {a.value: 0 for a in Action}
    for item in items:
        counts[item.action.value] += 1
    return counts
