"""MeshAccessLog: access logs of inbound and outbound traffic (File, Tcp, OpenTelemetry)."""

from reconciler.kinds.spec import Category, KindSpec, Shape
from reconciler.targetref import DESTINATIONS, MESH, MESH_GATEWAY, MESH_HTTP_ROUTE, TOP_LEVEL

KIND = KindSpec(
    name="MeshAccessLog",
    package="mesh_access_log",
    category=Category.POLICY,
    summary="Access logs of inbound and outbound traffic (File, Tcp, OpenTelemetry backends).",
    shape=Shape(
        top=TOP_LEVEL,
        to=(*DESTINATIONS, MESH_HTTP_ROUTE),
        from_=(MESH,),
        rules=True,
        narrowed=(MESH_GATEWAY,),
        narrowed_from=False,
    ),
    order=110,
)
