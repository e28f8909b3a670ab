"""The resources every stage works on: plain data plus where each field came from.

A :class:`Resource` is one YAML document of a known kind. Its data is plain Python (dicts,
lists, str, int, float, bool, None), exactly as written. Positions are resolved lazily
through a :class:`Locator`, so a clean run never pays for line numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

FieldPath = tuple[str | int, ...]
"""A path into a document: ``("spec", "to", 0, "default")``."""


class MapKey(str):
    """A key of a map (tags, headers) in a :data:`FieldPath`, as opposed to a field name.

    Kuma writes map keys as ``match["version"]`` whatever their characters
    (``PathBuilder.Key``); :func:`format_path` does the same for a ``MapKey``. It is a
    ``str``, so locating the path in the document is unchanged.
    """

    __slots__ = ()


def format_path(path: Sequence[str | int]) -> str:
    """Kuma-style field path: ``spec.to[0].default.http.requestTimeout``."""
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif isinstance(part, MapKey):
            out.append(f'["{part}"]')
        elif out:
            out.append(f".{part}" if _is_plain_key(part) else f'["{part}"]')
        else:
            out.append(part if _is_plain_key(part) else f'["{part}"]')
    return "".join(out)


def _is_plain_key(key: str) -> bool:
    return bool(key) and all(ch.isalnum() or ch in "_-" for ch in key)


class Kind(StrEnum):
    """Kinds the shared machinery names in code (Kuma 2.14 universal names).

    The catalogue of every kind the reconciler reads is :data:`reconciler.kinds.CATALOG`,
    derived from the kind folders; this enum only spells the names code refers to.
    """

    MESH = "Mesh"
    DATAPLANE = "Dataplane"
    MESH_TRAFFIC_PERMISSION = "MeshTrafficPermission"
    MESH_HTTP_ROUTE = "MeshHTTPRoute"
    MESH_TCP_ROUTE = "MeshTCPRoute"
    MESH_TIMEOUT = "MeshTimeout"
    MESH_RETRY = "MeshRetry"
    MESH_CIRCUIT_BREAKER = "MeshCircuitBreaker"
    MESH_HEALTH_CHECK = "MeshHealthCheck"
    MESH_LOAD_BALANCING_STRATEGY = "MeshLoadBalancingStrategy"
    MESH_FAULT_INJECTION = "MeshFaultInjection"
    MESH_RATE_LIMIT = "MeshRateLimit"
    MESH_ACCESS_LOG = "MeshAccessLog"


DEFAULT_MESH = "default"
"""Kuma's default for an omitted ``mesh`` field."""


@dataclass(frozen=True, slots=True)
class Position:
    """1-based line and column in a file."""

    line: int
    col: int


Locator = Callable[[FieldPath], Position | None]
"""Resolves a field path to the position of the deepest existing node on that path."""


@dataclass(frozen=True, slots=True)
class ResourceKey:
    """Identity of a resource: ``(type, mesh, name)``; ``mesh`` is None for a Mesh."""

    type: str
    mesh: str | None
    name: str

    def __str__(self) -> str:
        return f"{self.type} {self.mesh}/{self.name}" if self.mesh else f"{self.type} {self.name}"


@dataclass(frozen=True, slots=True, eq=False)
class Resource:
    """One document of a known kind, with the file it came from.

    ``data`` is the whole document (``type``, ``name``, ``mesh``, ``labels``, and either the
    flat fields or ``spec``). Stages must treat it as read-only.
    """

    kind: str
    name: str
    mesh: str | None
    data: Mapping[str, Any]
    file: str
    doc_index: int
    position: Position
    locator: Locator = field(repr=False, compare=False)
    flat: bool = False
    """The kind's fields sit next to ``type/name/mesh`` instead of under ``spec``."""

    @property
    def key(self) -> ResourceKey:
        return ResourceKey(self.kind, self.mesh, self.name)

    @property
    def labels(self) -> Mapping[str, str]:
        labels = self.data.get("labels")
        return labels if isinstance(labels, dict) else {}

    @property
    def spec(self) -> Mapping[str, Any]:
        """The kind's own fields: the document itself for flat kinds, ``spec`` otherwise."""
        if self.flat:
            return self.data
        spec = self.data.get("spec")
        return spec if isinstance(spec, dict) else {}

    @property
    def spec_path(self) -> FieldPath:
        """Prefix to put before a path relative to :attr:`spec`."""
        return () if self.flat else ("spec",)

    def locate(self, path: FieldPath) -> Position:
        """Position of ``path`` (or of its deepest existing ancestor) in the file."""
        return self.locator(path) or self.position
