"""MeshOpenTelemetryBackend: an OpenTelemetry collector policies send signals to."""

from reconciler.kinds.spec import Category, KindSpec

KIND = KindSpec(
    name="MeshOpenTelemetryBackend",
    package="mesh_open_telemetry_backend",
    category=Category.RESOURCE,
    summary="An OpenTelemetry collector (endpoint, protocol) that observability policies name.",
    not_applied=(
        "the collector definition for MeshMetric: its backendRefs to it get no OpenTelemetry "
        "exporter from the reconciler yet (MeshAccessLog and MeshTrace backendRefs to it are "
        "applied)"
    ),
)
