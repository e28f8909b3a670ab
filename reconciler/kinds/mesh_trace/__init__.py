"""MeshTrace: distributed tracing of the proxies' HTTP traffic (Zipkin, Datadog, OpenTelemetry)."""

from reconciler.kinds.spec import Category, KindSpec, Shape
from reconciler.targetref import TOP_LEVEL

KIND = KindSpec(
    name="MeshTrace",
    package="mesh_trace",
    category=Category.POLICY,
    summary="Distributed tracing: backend (Zipkin, Datadog, OpenTelemetry), sampling, span tags.",
    # Kuma's validator.go, system policy role (every policy of a universal control plane)
    shape=Shape(
        top=TOP_LEVEL,
        required=False,
        gateway_listener_tags=False,
    ),
    order=140,
)
