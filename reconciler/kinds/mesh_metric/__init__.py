"""MeshMetric: which proxy and application metrics are exposed, and where (Prometheus, OTel)."""

from reconciler.kinds.spec import Category, KindSpec, Shape
from reconciler.targetref import (
    DATAPLANE,
    MESH,
    MESH_GATEWAY,
    MESH_SERVICE,
    MESH_SERVICE_SUBSET,
    MESH_SUBSET,
)

KIND = KindSpec(
    name="MeshMetric",
    package="mesh_metric",
    category=Category.POLICY,
    summary="Metrics of proxies and applications: Prometheus scraping or OpenTelemetry push.",
    # Kuma's validator.go, system policy role (every policy of a universal control plane)
    shape=Shape(
        top=(MESH, MESH_SUBSET, MESH_SERVICE, MESH_SERVICE_SUBSET, MESH_GATEWAY, DATAPLANE),
        required=False,
    ),
    not_applied=(
        "MeshMetric: metrics are not configured on the proxies yet "
        "(no Prometheus endpoint or OpenTelemetry export)"
    ),
    order=130,
)
