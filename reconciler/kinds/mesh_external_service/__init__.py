"""MeshExternalService: a service outside the mesh, reached through the mesh; ``spec`` fields."""

from reconciler.kinds.spec import Category, KindSpec

KIND = KindSpec(
    name="MeshExternalService",
    package="mesh_external_service",
    category=Category.RESOURCE,
    summary="A service outside the mesh (endpoints, TLS origination), reached through the mesh.",
)
