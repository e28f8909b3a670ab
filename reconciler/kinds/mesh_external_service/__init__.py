"""MeshExternalService: a service outside the mesh, reached through the mesh; ``spec`` fields."""

from reconciler.kinds.spec import Category, KindSpec

KIND = KindSpec(
    name="MeshExternalService",
    package="mesh_external_service",
    category=Category.RESOURCE,
    summary="A service outside the mesh (endpoints, TLS origination), reached through the mesh.",
    not_applied=(
        "the external service (its match, endpoints and TLS origination): Kuma routes it "
        "through a ZoneEgress with mesh mTLS, and no outbound, cluster or egress route is "
        "compiled for it"
    ),
)
