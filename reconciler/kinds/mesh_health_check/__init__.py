"""MeshHealthCheck: active health checks of outbound clusters."""

from reconciler.kinds.spec import Category, KindSpec, Shape
from reconciler.targetref import (
    DATAPLANE,
    MESH,
    MESH_EXTERNAL_SERVICE,
    MESH_GATEWAY,
    MESH_MULTI_ZONE_SERVICE,
    MESH_SERVICE,
    MESH_SERVICE_SUBSET,
    MESH_SUBSET,
)

KIND = KindSpec(
    name="MeshHealthCheck",
    package="mesh_health_check",
    category=Category.POLICY,
    summary="Active HTTP, gRPC and TCP health checks of outbound clusters.",
    shape=Shape(
        top=(MESH, MESH_SUBSET, MESH_GATEWAY, MESH_SERVICE, MESH_SERVICE_SUBSET, DATAPLANE),
        to=(MESH, MESH_SERVICE, MESH_EXTERNAL_SERVICE, MESH_MULTI_ZONE_SERVICE),
        required=False,
    ),
    order=70,
)
