"""MeshLoadBalancingStrategy: load balancer, hashing, locality awareness."""

from reconciler.kinds.spec import Category, KindSpec, Shape
from reconciler.targetref import DESTINATIONS, MESH_HTTP_ROUTE, TOP_LEVEL

SHAPE = Shape(
    top=TOP_LEVEL,
    to=(*DESTINATIONS, MESH_HTTP_ROUTE),
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
