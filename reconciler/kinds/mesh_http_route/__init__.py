"""MeshHTTPRoute: HTTP routing of outbound traffic (matches, filters, weighted backends)."""

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
    name="MeshHTTPRoute",
    package="mesh_http_route",
    category=Category.POLICY,
    summary="Route HTTP requests by path, method, headers or query to weighted backends.",
    shape=Shape(
        top=(MESH, MESH_SUBSET, MESH_GATEWAY, MESH_SERVICE, MESH_SERVICE_SUBSET, DATAPLANE),
        to=(MESH_SERVICE, MESH_EXTERNAL_SERVICE, MESH_MULTI_ZONE_SERVICE),
        required=False,
        narrowed=(MESH_GATEWAY,),
        to_defaults=False,
    ),
    order=20,
)
