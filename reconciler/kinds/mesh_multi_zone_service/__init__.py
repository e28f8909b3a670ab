"""MeshMultiZoneService: MeshServices of several zones grouped as one; ``spec`` fields."""

from reconciler.kinds.spec import Category, KindSpec

KIND = KindSpec(
    name="MeshMultiZoneService",
    package="mesh_multi_zone_service",
    category=Category.RESOURCE,
    summary="A service made of the MeshServices of several zones (failover across zones).",
    not_applied=(
        "the multi-zone service (its MeshService selector and ports): the reconciler compiles "
        "one zone and no zone proxies, so there is no cross-zone outbound to build"
    ),
)
