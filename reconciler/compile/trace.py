"""What ``inspect`` shows: per proxy, the policies that matched and the merged confs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler import codes
from reconciler.compile.inventory import Inbound, Outbound
from reconciler.compile.merge import KeyedRule, Merged
from reconciler.compile.resource_set import Edit
from reconciler.model import FieldPath, Resource, format_path


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
