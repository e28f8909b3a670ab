"""HealthCheck: legacy Kuma kind, validated as Kuma 2.14 does and not applied (use MeshHealthCheck)."""

from reconciler.kinds.spec import Category, KindSpec

KIND = KindSpec(
    name="HealthCheck",
    package="health_check",
    category=Category.LEGACY,
    summary="Legacy active health checking of destinations by sources (TCP or HTTP).",
    flat=True,
    not_applied=(
        "legacy kind HealthCheck (accepted and validated as Kuma 2.14 does); "
        "use MeshHealthCheck instead"
    ),
    replacement="MeshHealthCheck",
    order=2040,
)
