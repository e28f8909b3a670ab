"""Resources in a mesh that no ``Mesh`` resource defines."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from reconciler import codes
from reconciler.diagnostics import Diagnostic, at_resource
from reconciler.model import Kind, Resource


def defined_meshes(resources: Sequence[Resource]) -> set[str]:
    return {r.name for r in resources if r.kind == Kind.MESH}


def check(resources: Sequence[Resource]) -> Iterable[Diagnostic]:
    meshes = defined_meshes(resources)
    diags: list[Diagnostic] = []
    known = ", ".join(sorted(meshes)) or "none"
    for resource in resources:
        if resource.kind == Kind.MESH or resource.mesh is None or resource.mesh in meshes:
            continue
        written = "mesh" in resource.data
        message = f"mesh {resource.mesh!r} is not defined by any Mesh resource (defined: {known})"
        if not written:
            message += "; `mesh` is omitted, which means 'default'"
        diags.append(
            at_resource(codes.UNKNOWN_MESH, resource, ("mesh",) if written else (), message)
        )
    return diags
