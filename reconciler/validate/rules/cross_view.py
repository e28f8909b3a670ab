"""What the cross-resource rules may know about the other resources, and what they read.

A cross-resource rule checks the resources of one file against the rest of the repository,
and it sees the rest only through a :class:`CrossView`: an index of small *facts* each
resource contributes (its key and position, the mesh a ``Mesh`` defines, the services a
``Dataplane`` provides...). Every lookup records the *key* it read in :attr:`CrossView.deps`.
A file's findings then change only if a fact under one of those keys changes, which is how
:class:`reconciler.validate.cross.CrossState` re-runs the rules only for the files a change
can affect.

Facts are ``(key, value)``: ``key`` a tuple of strings (``None`` for an absent mesh),
``value`` a tuple whose first item is the resource's index in its file's list, so entries
under a key are kept in repository order (file order, then document order). Keys in
:data:`CONTENT_KEYS` stand for a whole Dataplane (a rule calls ``selects`` on it): they
count as changed whenever their file changes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from reconciler.model import Kind, Resource
from reconciler.targetref import SERVICE_TAG, inbound_tags, inbounds

Key = tuple[str | None, ...]
Value = tuple[Any, ...]
Fact = tuple[Key, Value]
Entry = tuple[str, Value]
"""``(file path, value)`` of one fact, as the index holds it."""

CONTENT_KEYS = frozenset({"dataplanes", "dataplane-name", "inbound-service"})


def facts(resources: Sequence[Resource]) -> list[Fact]:
    """The facts the resources of one file contribute, in their order."""
    out: list[Fact] = []
    for i, r in enumerate(resources):
        out.append((("key", r.kind, r.mesh, r.name), (i, r.position.line, r.position.col)))
        if r.kind == Kind.MESH:
            out.append((("mesh", r.name), (i,)))
            out.append((("meshes",), (i, r.name)))
        elif r.kind == Kind.DATAPLANE:
            out.append((("dataplanes", r.mesh), (i,)))
            out.append((("dataplane-name", r.mesh, r.name), (i,)))
            inbound = {inbound_tags(x).get(SERVICE_TAG) for x in inbounds(r)}
            named = sorted(s for s in inbound if isinstance(s, str))
            for service in named:
                out.append((("inbound-service", r.mesh, service), (i,)))
            gateway = r.data.get("networking")
            gateway = gateway.get("gateway") if isinstance(gateway, dict) else None
            tags = gateway.get("tags") if isinstance(gateway, dict) else None
            extra = tags.get(SERVICE_TAG) if isinstance(tags, dict) else None
            provided = sorted({*named, extra} if isinstance(extra, str) else named)
            for service in provided:
                out.append((("service", r.mesh, service), (i,)))
    return out


class CrossView:
    """Lookups over every resource's facts; each records the key it read in :attr:`deps`.

    ``resources_of(path)`` gives the resources of a file (in their order) when a rule needs a
    whole Dataplane; it may load them on demand.
    """

    __slots__ = ("_index", "_resources_of", "deps")

    def __init__(
        self,
        index: dict[Key, list[Entry]],
        resources_of: Callable[[str], Sequence[Resource]],
    ) -> None:
        self._index = index
        self._resources_of = resources_of
        self.deps: set[Key] = set()

    def _read(self, key: Key) -> list[Entry]:
        self.deps.add(key)
        return self._index.get(key) or []

    def mesh_defined(self, mesh: str) -> bool:
        """A ``Mesh`` resource named ``mesh`` exists."""
        return bool(self._read(("mesh", mesh)))

    def defined_meshes(self) -> list[str]:
        """The names of every ``Mesh`` resource, sorted."""
        return sorted({value[1] for _, value in self._read(("meshes",))})

    def first(self, resource: Resource) -> tuple[str, int, int, int]:
        """``(file, index in the file, line, column)`` of the first resource with the key
        of ``resource`` (in repository order). Not recorded: a resource's own key is a
        fact of its own file, so the state knows every file that reads it (the index)."""
        path, value = self._index[("key", resource.kind, resource.mesh, resource.name)][0]
        return path, value[0], value[1], value[2]

    def provides_service(self, mesh: str | None, service: str) -> bool:
        """A Dataplane of ``mesh`` has an inbound (or is a gateway) tagged with ``service``."""
        return bool(self._read(("service", mesh, service)))

    def dataplane_named(self, mesh: str | None, name: str) -> Resource | None:
        """The first Dataplane of ``mesh`` named ``name``."""
        entries = self._read(("dataplane-name", mesh, name))
        return self._resource(entries[0]) if entries else None

    def any_dataplane(
        self, mesh: str | None, service: str | None, test: Callable[[Resource], bool]
    ) -> bool:
        """True if ``test`` accepts a Dataplane of ``mesh`` (one with an inbound tagged
        ``service`` when given). The answer depends only on the first one accepted (its
        file is recorded), or, when none is, on every candidate (the candidates' key)."""
        key: Key = ("dataplanes", mesh) if service is None else ("inbound-service", mesh, service)
        for entry in self._index.get(key) or []:
            if test(self._resource(entry)):
                self.deps.add(("file", entry[0]))
                return True
        self.deps.add(key)
        return False

    def _resource(self, entry: Entry) -> Resource:
        path, value = entry
        return self._resources_of(path)[value[0]]
