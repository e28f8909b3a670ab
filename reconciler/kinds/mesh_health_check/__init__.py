"""MeshHealthCheck: active health checks of outbound clusters."""

from reconciler.kinds.spec import Category, KindSpec, Shape
from reconciler.targetref import DESTINATIONS, TOP_LEVEL

KIND = KindSpec(
    name="MeshHealthCheck",
    package="mesh_health_check",
    category=Category.POLICY,
    summary="Active HTTP, gRPC and TCP health checks of outbound clusters.",
    shape=Shape(
        top=TOP_LEVEL,
        to=DESTINATIONS,
        required=False,
    ),
    order=70,
)
