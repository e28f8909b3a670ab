"""Parsed documents -> :class:`Resource` objects: the envelope checks (type, name, mesh)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler import codes
from reconciler.diagnostics import Diagnostic, at_file
from reconciler.kinds import CATALOG, KNOWN_KINDS, Scope
from reconciler.load.yaml_documents import ParsedDocument, is_invalid, locate
from reconciler.model import DEFAULT_MESH, FieldPath, Position, Resource
from reconciler.suggest import suggest


def to_resource(
    doc: ParsedDocument, file: str, locator: Callable[[FieldPath], Position | None] | None = None
) -> tuple[Resource | None, list[Diagnostic]]:
    """The resource a document declares, or the diagnostics saying why it is not one."""
    data: Any = doc.data
    if is_invalid(data):
        return None, []
    if data is None:
        return None, [
            at_file(
                codes.YAML_EMPTY_DOCUMENT,
                file,
                f"document {doc.index + 1} is empty",
                at=doc.position,
            )
        ]
    if not isinstance(data, dict):
        what = "a list" if isinstance(data, list) else f"a {type(data).__name__} value"
        return None, [
            at_file(
                codes.DOC_NOT_MAPPING,
                file,
                f"document {doc.index + 1} is {what}, not a mapping with `type` and `name`",
                at=doc.position,
            )
        ]
    root = doc.root
    loc = locator or (lambda path: locate(root, path))

    def pos(path: FieldPath) -> Position:
        return loc(path) or doc.position

    diags: list[Diagnostic] = []
    kind = data.get("type")
    if kind is None:
        hint = ""
        if "kind" in data and "apiVersion" in data:
            hint = " (this looks like a Kubernetes manifest; write Kuma's universal format: `type:`, `name:`, `mesh:`, `spec:`)"
        diags.append(
            at_file(codes.TYPE_MISSING, file, f"missing `type`{hint}", field="type", at=pos(()))
        )
    elif not isinstance(kind, str) or kind not in KNOWN_KINDS:
        diags.append(
            at_file(
                codes.TYPE_UNKNOWN,
                file,
                _unknown_kind_message(kind),
                field="type",
                at=pos(("type",)),
            )
        )
    name = data.get("name")
    if not isinstance(name, str) or not name:
        diags.append(
            at_file(
                codes.NAME_MISSING,
                file,
                "missing `name`" if name is None else "`name` must be a non-empty string",
                field="name",
                at=pos(("name",) if "name" in data else ()),
            )
        )
    if diags:
        return None, diags
    assert isinstance(kind, str) and isinstance(name, str)
    mesh: str | None
    spec = CATALOG[kind]
    if spec.scope == Scope.GLOBAL:
        mesh = None
    else:
        raw_mesh = data.get("mesh", DEFAULT_MESH)
        mesh = raw_mesh if isinstance(raw_mesh, str) else str(raw_mesh)
    resource = Resource(
        kind=kind,
        name=name,
        mesh=mesh,
        data=data,
        file=file,
        doc_index=doc.index,
        position=doc.position,
        locator=loc,
        flat=spec.flat,
    )
    return resource, []


def _unknown_kind_message(kind: object) -> str:
    if not isinstance(kind, str):
        return f"`type` must be a string naming a kind, got {kind!r}"
    close = suggest(kind, KNOWN_KINDS)
    suggestion = f"; did you mean {close!r}?" if close else ""
    return f"unknown type {kind!r}{suggestion} (`reconciler schema --list` shows the kinds)"
