"""MeshRateLimit: local rate limits of inbound HTTP requests and TCP connections."""

from reconciler.kinds.spec import Category, KindSpec, Shape
from reconciler.targetref import MESH, MESH_HTTP_ROUTE, TOP_LEVEL

KIND = KindSpec(
    name="MeshRateLimit",
    package="mesh_rate_limit",
    category=Category.POLICY,
    summary="Local rate limits of inbound HTTP requests and TCP connections.",
    shape=Shape(
        top=(*TOP_LEVEL, MESH_HTTP_ROUTE),
        to=(MESH,),
        from_=(MESH,),
        rules=True,
        required=False,
        own_sections=True,
    ),
    order=100,
)
