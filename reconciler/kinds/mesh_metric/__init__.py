"""MeshMetric: which proxy and application metrics are exposed, and where (Prometheus, OTel)."""

from reconciler.kinds.spec import Category, KindSpec, Shape
from reconciler.targetref import TOP_LEVEL

KIND = KindSpec(
    name="MeshMetric",
    package="mesh_metric",
    category=Category.POLICY,
    summary="Metrics of proxies and applications: Prometheus scraping or OpenTelemetry push.",
    # Kuma's validator.go, system policy role (every policy of a universal control plane)
    shape=Shape(
        top=TOP_LEVEL,
        required=False,
    ),
    order=130,
)
