"""MeshTCPRoute: TCP routing of outbound traffic to weighted backends."""

from reconciler.kinds.spec import Category, KindSpec, Shape
from reconciler.targetref import MESH_GATEWAY, SERVICES, TOP_LEVEL

KIND = KindSpec(
    name="MeshTCPRoute",
    package="mesh_tcp_route",
    category=Category.POLICY,
    summary="Route TCP connections of a service to weighted backends.",
    shape=Shape(
        top=TOP_LEVEL,
        to=SERVICES,
        required=False,
        narrowed=(MESH_GATEWAY,),
        to_defaults=False,
    ),
    order=30,
)
