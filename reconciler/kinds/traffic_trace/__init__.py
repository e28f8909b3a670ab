"""TrafficTrace: legacy Kuma kind, validated as Kuma 2.14 does and not applied (use MeshTrace)."""

from reconciler.kinds.spec import Category, KindSpec

KIND = KindSpec(
    name="TrafficTrace",
    package="traffic_trace",
    category=Category.LEGACY,
    summary="Legacy tracing of selected proxies to a Mesh tracing backend.",
    flat=True,
    not_applied=(
        "legacy kind TrafficTrace (accepted and validated as Kuma 2.14 does); use MeshTrace instead"
    ),
    replacement="MeshTrace",
    order=2030,
)
