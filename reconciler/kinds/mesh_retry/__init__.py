"""MeshRetry: retry policies of outbound HTTP, gRPC and TCP traffic."""

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
    name="MeshRetry",
    package="mesh_retry",
    category=Category.POLICY,
    summary="Retries of outbound HTTP, gRPC and TCP traffic (conditions, backoff, budgets).",
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
        narrowed=(MESH_GATEWAY, MESH_HTTP_ROUTE),
    ),
    order=50,
)
