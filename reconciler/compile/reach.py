"""The proxies a change between two revisions reaches, from the resources alone.

``reached(before, after, changed(...))`` gives the node ids whose Envoy configuration may
differ between two revisions (each indexed by ``compiler.index_revision``); every other
proxy compiles to the same configuration on both sides, so a comparison compiles only
these (``reconciler.comparison``). Unlike the incremental ``Compiler`` it needs no earlier
compile of either side (no traces): where the reach of a change cannot be bounded from the
resources, it widens. A changed resource (added, removed, or another document) reaches, on
each side where it exists:

* a policy: the proxies its top-level targetRef selects (for a MeshHTTPRoute target, that
  route's selection). When it has no ``from``, ``rules`` or ``default`` and each ``to[]``
  entry names a MeshService (or MeshServiceSubset) by name, only those of them that may
  send to one of these services: through an outbound (written with the
  ``kuma.io/service`` tag, or a ``backendRef`` and the MeshService or MeshExternalService
  it resolves to; one that does not resolve may send anywhere), or as a backend named in a
  MeshHTTPRoute / MeshTCPRoute that selects the proxy and applies to one of its outbounds
  (a backend chosen by labels may be anything). A route that another policy targets is not
  narrowed. Adding a mesh's first (or removing its last) policy that turns on
  ``x-kuma-tags`` reaches the whole mesh;
* a Dataplane: itself, and every proxy that may send (as above) to a service it provides on
  either side: its inbounds' ``kuma.io/service`` and the MeshService ports whose endpoints
  it is. If the mesh's destinations (MeshService ports, written or generated from the tags,
  and MeshExternalServices) or their hostnames differ otherwise, the whole mesh (so a
  ``backendRef`` outbound resolves the same on both sides when it is not);
* anything else (Mesh, MeshService, MeshExternalService, HostnameGenerator,
  MeshOpenTelemetryBackend, kinds the compiler does not apply): every proxy of its mesh, of
  every mesh for a resource outside meshes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.compile import kuma_tags
from reconciler.compile.compiler import IndexedRevision
from reconciler.compile.inventory import MeshIndex, Proxy, resolve_outbound
from reconciler.compile.matching import selection_ref
from reconciler.compile.ordering import target_ref
from reconciler.kinds import POLICY_KINDS
from reconciler.model import DEFAULT_MESH, Kind, Resource
from reconciler.targetref import selects

Change = tuple[Resource | None, Resource | None]
"""``(before, after)`` of one resource key; None where the revision lacks it."""

ROUTE_KINDS = (Kind.MESH_HTTP_ROUTE, Kind.MESH_TCP_ROUTE)
SERVICE_REF_KINDS = ("MeshService", "MeshServiceSubset")
BACKEND_KINDS = frozenset(
    {"MeshService", "MeshServiceSubset", "MeshExternalService", "MeshMultiZoneService"}
)


def changed(before: Sequence[Resource], after: Sequence[Resource]) -> list[Change]:
    """The resources whose document differs between the two revisions (by key)."""
    old = {r.key: r for r in before}
    new = {r.key: r for r in after}
    out: list[Change] = []
    for key in sorted(old.keys() | new.keys(), key=str):
        a, b = old.get(key), new.get(key)
        if a is None or b is None or (a is not b and a.data != b.data):
            out.append((a, b))
    return out


def reached(before: IndexedRevision, after: IndexedRevision, changes: Sequence[Change]) -> set[str]:
    """Node ids (of either side) whose configuration ``changes`` may change."""
    sides = (_Side(before), _Side(after))
    nodes: set[str] = set()
    whole: set[str] = set()
    every_mesh = False
    for old, new in changes:
        dataplanes: list[Resource] = []
        for resource, side in ((old, sides[0]), (new, sides[1])):
            if resource is None:
                continue
            if resource.kind == Kind.DATAPLANE:
                dataplanes.append(resource)
            elif resource.kind in POLICY_KINDS:
                mesh = resource.mesh or DEFAULT_MESH  # as the index files it
                index = side.revision.meshes.get(mesh)
                if index is not None:
                    nodes.update(side.selected_by(resource, index))
                if resource.kind in kuma_tags.USING_KINDS and _tags_toggled(sides, mesh):
                    whole.add(mesh)
            elif resource.kind == Kind.MESH:
                whole.add(resource.name)
            elif resource.mesh is None:
                every_mesh = True
            else:
                whole.add(resource.mesh)
        if dataplanes:
            mesh = dataplanes[0].mesh or DEFAULT_MESH
            if _destinations_differ(sides, mesh):
                whole.add(mesh)
            else:
                nodes.update(_reached_by_dataplane(sides, mesh, dataplanes))
    for side in sides:
        for name, index in side.revision.meshes.items():
            if every_mesh or name in whole:
                nodes.update(p.node_id for p in index.proxies.values())
    return nodes


def _tags_toggled(sides: tuple[_Side, _Side], mesh: str) -> bool:
    users = [kuma_tags.users(i) if (i := s.revision.meshes.get(mesh)) else 0 for s in sides]
    return bool(users[0]) != bool(users[1])


def _destinations_differ(sides: tuple[_Side, _Side], mesh: str) -> bool:
    before, after = (s.revision.meshes.get(mesh) for s in sides)
    if before is None or after is None:
        return True
    return _destinations(before) != _destinations(after) or before.hostnames != after.hostnames


def _destinations(index: MeshIndex) -> dict[str, tuple[Any, ...]]:
    """Each destination without its resource object (its endpoints are indexed apart)."""
    return {
        key: (d.kind, d.name, dict(d.labels), d.port, d.section, d.protocol, d.identities, d.sni)
        for key, d in index.destinations.items()
    }


def _reached_by_dataplane(
    sides: tuple[_Side, _Side], mesh: str, dataplanes: Sequence[Resource]
) -> set[str]:
    services: set[str] = set()
    nodes: set[str] = set()
    for side in sides:
        index = side.revision.meshes.get(mesh)
        if index is None:
            continue
        for dataplane in dataplanes:
            proxy = index.proxies.get(dataplane.name)
            if proxy is None:
                continue
            nodes.add(proxy.node_id)
            services.update(i.service for i in proxy.inbounds if i.service)
            services.update(
                key
                for key, endpoints in index.endpoints.items()
                if any(e.dataplane == proxy.name for e in endpoints)
            )
        services.update(
            index.destinations[k].name for k in list(services) if k in index.destinations
        )
    for side in sides:
        index = side.revision.meshes.get(mesh)
        if index is None:
            continue
        for proxy in index.proxies.values():
            # a backendRef outbound resolves against the destinations, the same on both
            # sides here: it reaches a service of the Dataplane only through ``services``
            if side.sends_to(index, proxy, services):
                nodes.add(proxy.node_id)
    return nodes


def to_names(policy: Resource) -> frozenset[str] | None:
    """The services a policy's ``to[]`` entries name, when they are all it configures and
    each names a MeshService (or MeshServiceSubset) by name; None otherwise."""
    spec = policy.spec
    if any(spec.get(k) for k in ("from", "rules", "default")):
        return None
    entries = spec.get("to")
    if not isinstance(entries, list) or not entries:
        return None
    names: set[str] = set()
    for entry in entries:
        ref = entry.get("targetRef") if isinstance(entry, dict) else None
        if (
            not isinstance(ref, dict)
            or ref.get("kind") not in SERVICE_REF_KINDS
            or not isinstance(ref.get("name"), str)
            or ref.get("labels")
        ):
            return None
        names.add(ref["name"])
    return frozenset(names)


@dataclass(frozen=True, slots=True)
class _Route:
    """What a MeshHTTPRoute / MeshTCPRoute may add to a proxy's upstreams."""

    ref: Mapping[str, Any]
    targets: frozenset[str] | None
    """Services of its to-entries; None when one may apply to any outbound."""
    backends: frozenset[str]
    any_backend: bool
    """A backend chosen otherwise than by name (labels): it may be any service."""


@dataclass(frozen=True, slots=True)
class _Upstreams:
    names: frozenset[str]
    anything: bool


class _Side:
    """One revision, with the routes and upstreams of its proxies worked out on demand."""

    def __init__(self, revision: IndexedRevision) -> None:
        self.revision = revision
        self._routes: dict[str, dict[str | None, list[_Route]]] = {}
        self._upstreams: dict[str, _Upstreams] = {}

    def selected_by(self, policy: Resource, index: MeshIndex) -> Iterator[str]:
        ref = selection_ref(policy, index)
        scope = to_names(policy)
        if scope is not None and policy.kind == Kind.MESH_HTTP_ROUTE and _targeted(policy, index):
            scope = None  # policies targeting the route configure what it selects
        for proxy in index.proxies.values():
            if selects(ref, proxy.resource) and (
                scope is None or self.sends_to(index, proxy, scope)
            ):
                yield proxy.node_id

    def sends_to(self, index: MeshIndex, proxy: Proxy, services: set[str] | frozenset[str]) -> bool:
        found = self._upstreams.get(proxy.node_id)
        if found is None:
            found = self._upstreams[proxy.node_id] = self._upstreams_of(index, proxy)
        return found.anything or not found.names.isdisjoint(services)

    def _upstreams_of(self, index: MeshIndex, proxy: Proxy) -> _Upstreams:
        names: set[str] = set()
        anything = False
        for written in proxy.outbounds:
            outbound, _ = resolve_outbound(index, written)
            if outbound is None:
                anything = True
                continue
            names.add(outbound.service)
            destination = index.destinations.get(outbound.service)
            if destination is not None:
                names.add(destination.name)
        routes = self._routes_of(index)
        candidates = {id(r): r for r in routes.get(None, ())}
        for name in sorted(names):
            candidates.update((id(r), r) for r in routes.get(name, ()))
        for route in candidates.values():
            if selects(route.ref, proxy.resource):
                names.update(route.backends)
                anything = anything or route.any_backend
        for name in list(names):
            destination = index.destinations.get(name)
            if destination is not None:
                names.add(destination.name)
        return _Upstreams(frozenset(names), anything)

    def _routes_of(self, index: MeshIndex) -> dict[str | None, list[_Route]]:
        """The mesh's routes by the services their to-entries name (None: any service)."""
        found = self._routes.get(index.name)
        if found is None:
            found = self._routes[index.name] = {}
            for kind in ROUTE_KINDS:
                for resource in index.policies.get(kind, ()):
                    route = _route(resource, index)
                    for target in route.targets if route.targets is not None else (None,):
                        found.setdefault(target, []).append(route)
        return found


def _route(route: Resource, index: MeshIndex) -> _Route:
    targets: set[str] | None = set()
    backends: set[str] = set()
    any_backend = False
    entries = route.spec.get("to")
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        ref = entry.get("targetRef")
        if (
            targets is not None
            and isinstance(ref, dict)
            and ref.get("kind") in SERVICE_REF_KINDS
            and isinstance(ref.get("name"), str)
            and not ref.get("labels")
        ):
            targets.add(ref["name"])
        else:
            targets = None
        for key, value in entry.items():
            if key == "targetRef":
                continue
            for ref_kind, name in _named_refs(value):
                if ref_kind in BACKEND_KINDS:
                    if name is None:
                        any_backend = True
                    else:
                        backends.add(name)
    return _Route(
        selection_ref(route, index),
        frozenset(targets) if targets is not None else None,
        frozenset(backends),
        any_backend,
    )


def _named_refs(value: Any) -> Iterator[tuple[object, str | None]]:
    """Every ``{kind, name?}`` mapping under ``value`` (backendRefs, mirrors, ...)."""
    if isinstance(value, dict):
        if "kind" in value:
            name = value.get("name")
            yield value.get("kind"), name if isinstance(name, str) else None
        for item in value.values():
            yield from _named_refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _named_refs(item)


def _targeted(route: Resource, index: MeshIndex) -> bool:
    """Some policy of the mesh targets this MeshHTTPRoute (or a MeshHTTPRoute by no name)."""
    for policies in index.policies.values():
        for policy in policies:
            ref = target_ref(policy)
            if ref.get("kind") == Kind.MESH_HTTP_ROUTE and ref.get("name") in (route.name, None):
                return True
    return False
