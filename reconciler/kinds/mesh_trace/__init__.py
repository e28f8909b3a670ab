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
    not_applied="MeshTrace: tracing is not configured on the proxies yet (no spans are sent)",
    order=140,
)
