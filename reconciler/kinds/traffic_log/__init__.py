"""TrafficLog: legacy Kuma kind, validated as Kuma 2.14 does and not applied (use MeshAccessLog)."""

from reconciler.kinds.spec import Category, KindSpec

KIND = KindSpec(
    name="TrafficLog",
    package="traffic_log",
    category=Category.LEGACY,
    summary="Legacy access logging of traffic between sources and destinations to a Mesh logging backend.",
    flat=True,
    not_applied=(
        "legacy kind TrafficLog (accepted and validated as Kuma 2.14 does); "
        "use MeshAccessLog instead"
    ),
    replacement="MeshAccessLog",
    order=2020,
)
