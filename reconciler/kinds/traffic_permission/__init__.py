"""TrafficPermission: legacy Kuma kind, validated as Kuma 2.14 does and not applied (use MeshTrafficPermission)."""

from reconciler.kinds.spec import Category, KindSpec

KIND = KindSpec(
    name="TrafficPermission",
    package="traffic_permission",
    category=Category.LEGACY,
    summary="Legacy permission of traffic from sources to destinations (mTLS).",
    flat=True,
    not_applied=(
        "legacy kind TrafficPermission (accepted and validated as Kuma 2.14 does); "
        "use MeshTrafficPermission instead"
    ),
    replacement="MeshTrafficPermission",
    order=2010,
)
