"""MeshLoadBalancingStrategy: load balancer, hashing, locality awareness."""

from reconciler.kinds.spec import Category, KindSpec, Shape
from reconciler.targetref import (
    DATAPLANE,
    MESH,
    MESH_EXTERNAL_SERVICE,
    MESH_GATEWAY,
    MESH_HTTP_ROUTE,
    MESH_MULTI_ZONE_SERVICE,
    MESH_SERVICE,
    MESH_SERVICE_SUBSET,
    MESH_SUBSET,
)

SHAPE = Shape(
    top=(MESH, MESH_SUBSET, MESH_GATEWAY, MESH_SERVICE, MESH_SERVICE_SUBSET, DATAPLANE),
    to=(MESH, MESH_SERVICE, MESH_EXTERNAL_SERVICE, MESH_MULTI_ZONE_SERVICE, MESH_HTTP_ROUTE),
    required=False,
    own_sections=True,
)

KIND = KindSpec(
    name="MeshLoadBalancingStrategy",
    package="mesh_load_balancing_strategy",
    category=Category.POLICY,
    summary="Load balancer of outbound clusters (round robin, least request, hashing...).",
    shape=SHAPE,
    order=80,
)
