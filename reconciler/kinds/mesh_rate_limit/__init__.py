"""MeshRateLimit: local rate limits of inbound HTTP requests and TCP connections."""

from reconciler.kinds.spec import Category, KindSpec, Shape
from reconciler.targetref import (
    DATAPLANE,
    MESH,
    MESH_GATEWAY,
    MESH_HTTP_ROUTE,
    MESH_SERVICE,
    MESH_SERVICE_SUBSET,
    MESH_SUBSET,
)

KIND = KindSpec(
    name="MeshRateLimit",
    package="mesh_rate_limit",
    category=Category.POLICY,
    summary="Local rate limits of inbound HTTP requests and TCP connections.",
    shape=Shape(
        top=(
            MESH,
            MESH_SUBSET,
            MESH_GATEWAY,
            MESH_SERVICE,
            MESH_SERVICE_SUBSET,
            MESH_HTTP_ROUTE,
            DATAPLANE,
        ),
        to=(MESH,),
        from_=(MESH,),
        rules=True,
        required=False,
        own_sections=True,
    ),
    order=100,
)
