"""What ``inspect`` shows: per proxy, the policies that matched and the merged confs."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from reconciler import codes
from reconciler.compile.inventory import Inbound, Outbound
from reconciler.compile.merge import KeyedRule, Merged, Origin
from reconciler.compile.resource_set import Edit
from reconciler.model import FieldPath, Resource, format_path

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Skip:
    """A part of a policy that Kuma would apply but this compiler does not (yet)."""

    resource: Resource
    path: FieldPath
    """Absolute path in the policy's document."""
    message: str
    code: str = codes.COMPILE_SKIPPED

    def note(self) -> str:
        return f"{self.resource.kind} {self.resource.name} {format_path(self.path)}: {self.message}"


@dataclass(frozen=True, slots=True)
class RouteTrace:
    name: str
    match: Mapping[str, object]
    rule: KeyedRule | None
    """None: the implicit default route to the destination service."""


@dataclass(frozen=True, slots=True)
class OutboundTrace:
    outbound: Outbound
    protocol: str
    listener: str
    confs: Mapping[str, Merged]
    """Effective conf per kind for the destination service."""
    routes: Sequence[RouteTrace]
    tcp_route: Merged | None
    clusters: Mapping[str, Mapping[str, Merged]]
    """Per upstream cluster of this outbound, the effective conf per kind."""
    upstreams: frozenset[str] = frozenset()
    """Services this outbound sends to (its own, route backends, mirrors)."""
    destination: Mapping[str, Any] | None = None
    """For a ``backendRef`` outbound: the MeshService port or MeshExternalService it reaches
    (kind, name, port, section, hostnames, where it is defined)."""


@dataclass(frozen=True, slots=True)
class InboundTrace:
    inbound: Inbound
    listener: str
    cluster: str
    confs: Mapping[str, Merged]


@dataclass(slots=True)
class ProxyTrace:
    node_id: str
    selected: Mapping[str, Sequence[Resource]]
    inbounds: list[InboundTrace] = field(default_factory=list)
    outbounds: list[OutboundTrace] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    confs: dict[str, Merged] = field(default_factory=dict)
    """Per kind with a ``PROXY`` hook, its merged top-level ``default`` for this proxy."""
    edits: list[Edit] = field(default_factory=list)
    """Resources MeshProxyPatch modifications added, changed or removed, in order."""


class TraceParts:
    """One object per equal part of the traces one compile stores (a server keeps them).

    The proxies calling a service mostly get the same confs: equal :class:`Merged` objects
    (the same conf, in the same key order, from the same contributions and origins) are
    stored once, each with its origin paths and :class:`Origin` objects held once too.
    Keys name resources and confs by ``id``: the stored values hold those objects, so an id
    cannot be reused while its entry lives (one instance per compile of a mesh).
    """

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts: dict[Hashable, Any] = {}

    def one(self, key: Hashable, value: T) -> T:
        found: T = self._parts.setdefault(key, value)
        return found

    def merged(self, merged: Merged) -> Merged:
        # the matcher hands the same object to many outbounds: looked up by identity first
        # (the entry holds that object, so its id stays its own while the entry lives)
        seen: tuple[Merged, Merged] | None = self._parts.get(("id", id(merged)))
        if seen is not None and seen[0] is merged:
            return seen[1]
        shared = self._by_content(merged)
        self._parts[("id", id(merged))] = (merged, shared)
        return shared

    def _by_content(self, merged: Merged) -> Merged:
        key = (
            "merged",
            merged.key,
            _shape(merged.conf),
            tuple((id(c.resource), c.path, id(c.conf)) for c in merged.contributions),
            tuple(
                (path, tuple((id(o.resource), o.path) for o in found))
                for path, found in merged.origins.items()
            ),
        )
        hit: Merged | None = self._parts.get(key)
        if hit is not None:
            return hit
        compact = Merged(
            merged.conf,
            {
                self._path(path): tuple(self._origin(o) for o in found)
                for path, found in merged.origins.items()
            },
            merged.contributions,
            merged.key,
        )
        self._parts[key] = compact
        return compact

    def confs(self, confs: Mapping[str, Merged]) -> Mapping[str, Merged]:
        """The same kinds in the same order, each with its shared :class:`Merged`: one dict."""
        shared = {kind: self.merged(m) for kind, m in confs.items()}
        return self.one(("confs", *((k, id(m)) for k, m in shared.items())), shared)

    def _path(self, path: FieldPath) -> FieldPath:
        return self.one(("path", path), path)

    def _origin(self, origin: Origin) -> Origin:
        key = ("origin", id(origin.resource), origin.path)
        hit: Origin | None = self._parts.get(key)
        if hit is None:
            hit = self._parts[key] = Origin(origin.resource, self._path(origin.path))
        return hit


def _shape(value: Any) -> Hashable:
    """The key order of every mapping inside ``value`` (canonical JSON sorts keys)."""
    if isinstance(value, Mapping):
        return tuple((k, _shape(v)) for k, v in value.items())
    if isinstance(value, list):
        return tuple(_shape(v) for v in value)
    return None
