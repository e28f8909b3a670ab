"""Resources in a mesh that no ``Mesh`` resource defines.

The mesh ``default`` is the exception: Kuma's control plane creates it at start, so
resources in it are valid Kuma without a ``Mesh`` document (a warning, RC407, once per file).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from reconciler import codes
from reconciler.diagnostics import Diagnostic, at_resource
from reconciler.model import DEFAULT_MESH, Kind, Resource


def defined_meshes(resources: Sequence[Resource]) -> set[str]:
    return {r.name for r in resources if r.kind == Kind.MESH}


def check(resources: Sequence[Resource]) -> Iterable[Diagnostic]:
    meshes = defined_meshes(resources)
    diags: list[Diagnostic] = []
    known = ", ".join(sorted(meshes)) or "none"
    warned_files: set[str] = set()
    for resource in resources:
        if resource.kind == Kind.MESH or resource.mesh is None or resource.mesh in meshes:
            continue
        if resource.mesh == DEFAULT_MESH:
            if resource.file not in warned_files:
                warned_files.add(resource.file)
                diags.append(
                    at_resource(
                        codes.IMPLICIT_DEFAULT_MESH,
                        resource,
                        ("mesh",) if "mesh" in resource.data else (),
                        "mesh 'default' is not defined in the repository; Kuma creates it "
                        "with default settings (no mTLS), and so does the reconciler",
                    )
                )
            continue
        written = "mesh" in resource.data
        message = f"mesh {resource.mesh!r} is not defined by any Mesh resource (defined: {known})"
        if not written:
            message += "; `mesh` is omitted, which means 'default'"
        diags.append(
            at_resource(codes.UNKNOWN_MESH, resource, ("mesh",) if written else (), message)
        )
    return diags
