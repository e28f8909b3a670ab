"""A proxy's assembled resources by type and name, each with its origin: what a kind that edits
the whole proxy (MeshProxyPatch, Kuma's ``core_xds.ResourceSet``) works on.

Origins are Kuma's resource origins (``pkg/xds/generator/metadata``): what produced a
resource, the value MeshProxyPatch's ``match.origin`` compares. The compiler builds
resources of these origins: ``inbound`` (an inbound's listener and its local cluster
``localhost:<port>``), ``outbound`` (an outbound's listener, route configuration and
clusters, MeshExternalService clusters included) and, for the clusters a policy kind adds to
the proxy (MeshAccessLog's OpenTelemetry collectors), that kind's origin
(:data:`KIND_ORIGINS`); resources added by a modification take the origin Kuma gives them.

The messages in a set are private copies: editing them never touches a message shared with
another proxy.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.model import FieldPath, Resource, format_path
from reconciler.resource_types import TypeUrl


class Origin(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


KIND_ORIGINS = {
    "MeshAccessLog": "meshaccesslog",
    "MeshTrace": "mesh-trace",
    "MeshMetric": "open-telemetry",
}
"""Kuma's origin of the resources a kind adds to a proxy itself (its collector clusters:
``<kind>/metadata/origin.go``)."""


EDITABLE = frozenset({TypeUrl.LISTENER, TypeUrl.CLUSTER, TypeUrl.ROUTE})
"""The types a proxy-wide edit may change (endpoints and secrets are never edited)."""


class EditAction(StrEnum):
    ADDED = "added"
    CHANGED = "changed"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class Edit:
    """One resource a policy's part added, changed or removed (provenance)."""

    policy: Resource
    path: FieldPath
    """Absolute path of the part (``spec.default.appendModifications[0]``)."""
    type_url: TypeUrl
    name: str
    action: EditAction

    def where(self) -> str:
        return f"{self.policy.file}:{self.policy.locate(self.path).line}"

    def describe(self) -> str:
        """``MeshProxyPatch p spec.default.appendModifications[0] (file:line)``."""
        return f"{self.policy.kind} {self.policy.name} {format_path(self.path)} ({self.where()})"


@dataclass(slots=True)
class Entry:
    message: Any
    origin: str


@dataclass(slots=True)
class ResourceSet:
    items: dict[TypeUrl, dict[str, Entry]] = field(default_factory=dict)
    listener_tags: dict[str, Mapping[str, str]] = field(default_factory=dict)
    """Kuma's listener metadata tags (``io.kuma.tags``): an inbound's tags, an outbound's
    ``tags`` without ``kuma.io/mesh``; matched by ``listenerTags``."""
    edits: list[Edit] = field(default_factory=list)

    def of(self, type_url: TypeUrl) -> Iterator[tuple[str, Entry]]:
        """The resources of a type, by name (a snapshot: adding or removing is safe)."""
        found = self.items.get(type_url, {})
        yield from sorted(found.items())

    def add(self, type_url: TypeUrl, name: str, message: Any, origin: str) -> None:
        """Add, or replace a resource of the same name (Kuma ``ResourceSet.Add``)."""
        self.items.setdefault(type_url, {})[name] = Entry(message, origin)

    def remove(self, type_url: TypeUrl, name: str) -> None:
        self.items.get(type_url, {}).pop(name, None)

    def get(self, type_url: TypeUrl, name: str) -> Entry | None:
        return self.items.get(type_url, {}).get(name)

    def edited_by(self) -> dict[tuple[TypeUrl, str], tuple[str, ...]]:
        """Per resource, the parts that edited it, in the order they ran."""
        out: dict[tuple[TypeUrl, str], tuple[str, ...]] = {}
        for edit in self.edits:
            key = (edit.type_url, edit.name)
            described = edit.describe()
            if described not in out.get(key, ()):
                out[key] = (*out.get(key, ()), described)
        return out

    def resources(self) -> dict[TypeUrl, list[Any]]:
        """Messages per type, sorted by name (what a ProxyConfig holds)."""
        return {
            t: [entry.message for _, entry in sorted(found.items())]
            for t in TypeUrl
            if (found := self.items.get(t))
        }
