"""RateLimit: legacy Kuma kind, validated as Kuma 2.14 does and not applied (use MeshRateLimit)."""

from reconciler.kinds.spec import Category, KindSpec

KIND = KindSpec(
    name="RateLimit",
    package="rate_limit",
    category=Category.LEGACY,
    summary="Legacy local HTTP rate limiting of traffic from sources to destinations.",
    flat=True,
    not_applied=(
        "legacy kind RateLimit (accepted and validated as Kuma 2.14 does); "
        "use MeshRateLimit instead"
    ),
    replacement="MeshRateLimit",
    order=2080,
)
