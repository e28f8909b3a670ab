"""Retry: legacy Kuma kind, validated as Kuma 2.14 does and not applied (use MeshRetry)."""

from reconciler.kinds.spec import Category, KindSpec

KIND = KindSpec(
    name="Retry",
    package="retry",
    category=Category.LEGACY,
    summary="Legacy retries of HTTP, gRPC and TCP traffic to destinations.",
    flat=True,
    not_applied=(
        "legacy kind Retry (accepted and validated as Kuma 2.14 does); use MeshRetry instead"
    ),
    replacement="MeshRetry",
    order=2060,
)
