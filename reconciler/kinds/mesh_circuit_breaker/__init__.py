"""MeshCircuitBreaker: connection limits and outlier detection."""

from reconciler.kinds.spec import Category, KindSpec, Shape
from reconciler.targetref import DESTINATIONS, MESH, TOP_LEVEL

KIND = KindSpec(
    name="MeshCircuitBreaker",
    package="mesh_circuit_breaker",
    category=Category.POLICY,
    summary="Connection limits and outlier detection of clusters, outbound and inbound.",
    shape=Shape(
        top=TOP_LEVEL,
        to=DESTINATIONS,
        from_=(MESH,),
        rules=True,
        rule_matches=False,
    ),
    order=60,
)
