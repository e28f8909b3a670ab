"""CircuitBreaker: legacy Kuma kind, validated as Kuma 2.14 does and not applied (use MeshCircuitBreaker)."""

from reconciler.kinds.spec import Category, KindSpec

KIND = KindSpec(
    name="CircuitBreaker",
    package="circuit_breaker",
    category=Category.LEGACY,
    summary="Legacy circuit breaking: outlier detection and connection thresholds of destinations.",
    flat=True,
    not_applied=(
        "legacy kind CircuitBreaker (accepted and validated as Kuma 2.14 does); "
        "use MeshCircuitBreaker instead"
    ),
    replacement="MeshCircuitBreaker",
    order=2050,
)
