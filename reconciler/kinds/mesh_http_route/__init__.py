"""MeshHTTPRoute: HTTP routing of outbound traffic (matches, filters, weighted backends)."""

from reconciler.kinds.spec import Category, KindSpec, Shape
from reconciler.targetref import MESH_GATEWAY, SERVICES, TOP_LEVEL

KIND = KindSpec(
    name="MeshHTTPRoute",
    package="mesh_http_route",
    category=Category.POLICY,
    summary="Route HTTP requests by path, method, headers or query to weighted backends.",
    shape=Shape(
        top=TOP_LEVEL,
        to=SERVICES,
        required=False,
        narrowed=(MESH_GATEWAY,),
        to_defaults=False,
    ),
    order=20,
)
