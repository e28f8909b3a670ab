"""MeshAccessLog: access logs of inbound and outbound traffic (File, Tcp, OpenTelemetry)."""

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
    name="MeshAccessLog",
    package="mesh_access_log",
    category=Category.POLICY,
    summary="Access logs of inbound and outbound traffic (File, Tcp, OpenTelemetry backends).",
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
        narrowed=(MESH_GATEWAY, MESH_HTTP_ROUTE),
    ),
    order=110,
)
