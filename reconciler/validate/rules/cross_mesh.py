"""Resources in a mesh that no ``Mesh`` resource defines.

The mesh ``default`` is the exception: Kuma's control plane creates it at start, so
resources in it are valid Kuma without a ``Mesh`` document (a warning, RC407, once per file).
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler import codes
from reconciler.diagnostics import Diagnostic, at_resource
from reconciler.model import DEFAULT_MESH, Kind, Resource
from reconciler.validate.rules.cross_view import CrossView


def check(resources: Sequence[Resource], view: CrossView) -> list[Diagnostic]:
    """``resources``: the resources of one file, in their order."""
    diags: list[Diagnostic] = []
    warned = False
    for resource in resources:
        if resource.kind == Kind.MESH or resource.mesh is None:
            continue
        if view.mesh_defined(resource.mesh):
            continue
        if resource.mesh == DEFAULT_MESH:
            if not warned:
                warned = True
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
        known = ", ".join(view.defined_meshes()) or "none"
        written = "mesh" in resource.data
        message = f"mesh {resource.mesh!r} is not defined by any Mesh resource (defined: {known})"
        if not written:
            message += "; `mesh` is omitted, which means 'default'"
        diags.append(
            at_resource(codes.UNKNOWN_MESH, resource, ("mesh",) if written else (), message)
        )
    return diags
