"""MeshService: a service of the mesh (its ports and the proxies behind it); ``spec`` fields."""

from reconciler.kinds.spec import Category, KindSpec

KIND = KindSpec(
    name="MeshService",
    package="mesh_service",
    category=Category.RESOURCE,
    summary="A service of the mesh: its ports, protocols and the data plane proxies behind it.",
)
