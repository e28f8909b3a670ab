"""MeshTimeout: connect, idle, request, stream-idle and stream-duration timeouts."""

from reconciler.kinds.spec import Category, KindSpec, Shape
from reconciler.targetref import (
    DESTINATIONS,
    MESH,
    MESH_EXTERNAL_SERVICE,
    MESH_GATEWAY,
    MESH_HTTP_ROUTE,
    TOP_LEVEL,
)

KIND = KindSpec(
    name="MeshTimeout",
    package="mesh_timeout",
    category=Category.POLICY,
    summary="Connection, idle, request and stream timeouts, outbound and inbound.",
    shape=Shape(
        top=(*TOP_LEVEL, MESH_HTTP_ROUTE),
        to=(*DESTINATIONS, MESH_HTTP_ROUTE),
        from_=(MESH,),
        rules=True,
        narrowed=(MESH_HTTP_ROUTE, MESH_GATEWAY),
        narrowed_to=(MESH, MESH_EXTERNAL_SERVICE),
        default_needs=("connectionTimeout", "idleTimeout", "http"),
        default_needs_message="at least one timeout should be configured",
    ),
    order=40,
)
