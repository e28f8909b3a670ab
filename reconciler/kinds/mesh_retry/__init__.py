"""MeshRetry: retry policies of outbound HTTP, gRPC and TCP traffic."""

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
    name="MeshRetry",
    package="mesh_retry",
    category=Category.POLICY,
    summary="Retries of outbound HTTP, gRPC and TCP traffic (conditions, backoff, budgets).",
    shape=Shape(
        top=(*TOP_LEVEL, MESH_HTTP_ROUTE),
        to=(*DESTINATIONS, MESH_HTTP_ROUTE),
        narrowed=(MESH_GATEWAY, MESH_HTTP_ROUTE),
        narrowed_to=(MESH, MESH_EXTERNAL_SERVICE),
        required=False,  # Kuma requires no to[] entry: an empty `to: []` is valid
    ),
    order=50,
)
