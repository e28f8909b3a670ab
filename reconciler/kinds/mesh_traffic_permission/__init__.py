"""MeshTrafficPermission: which sources may call an inbound (RBAC with mesh mTLS)."""

from reconciler.kinds.spec import Category, KindSpec, Shape
from reconciler.targetref import DATAPLANE, MESH, MESH_SERVICE, MESH_SERVICE_SUBSET, MESH_SUBSET

SHAPE = Shape(
    top=(MESH, MESH_SUBSET, MESH_SERVICE, MESH_SERVICE_SUBSET, DATAPLANE),
    from_=(MESH, MESH_SUBSET, MESH_SERVICE, MESH_SERVICE_SUBSET),
    rules=True,
    own_sections=True,
)

KIND = KindSpec(
    name="MeshTrafficPermission",
    package="mesh_traffic_permission",
    category=Category.POLICY,
    summary="Allow or deny traffic to inbounds by source identity (RBAC, needs mesh mTLS).",
    shape=SHAPE,
    order=10,
)
