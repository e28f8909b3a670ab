"""MeshCircuitBreaker: connection limits and outlier detection."""

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
    name="MeshCircuitBreaker",
    package="mesh_circuit_breaker",
    category=Category.POLICY,
    summary="Connection limits and outlier detection of clusters, outbound and inbound.",
    shape=Shape(
        top=(MESH, MESH_SUBSET, MESH_SERVICE, MESH_GATEWAY, MESH_SERVICE_SUBSET, DATAPLANE),
        to=(MESH, MESH_SERVICE, MESH_EXTERNAL_SERVICE, MESH_MULTI_ZONE_SERVICE),
        from_=(MESH,),
        rules=True,
        rule_matches=False,
    ),
    order=60,
)
