"""MeshTimeout: connect, idle, request, stream-idle and stream-duration timeouts."""

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

KIND = KindSpec(
    name="MeshTimeout",
    package="mesh_timeout",
    category=Category.POLICY,
    summary="Connection, idle, request and stream timeouts, outbound and inbound.",
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
        to=(MESH, MESH_SERVICE, MESH_EXTERNAL_SERVICE, MESH_MULTI_ZONE_SERVICE, MESH_HTTP_ROUTE),
        from_=(MESH,),
        rules=True,
        narrowed=(MESH_HTTP_ROUTE, MESH_GATEWAY),
    ),
    order=40,
)
