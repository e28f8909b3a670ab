"""Timeout: legacy Kuma kind, validated as Kuma 2.14 does and not applied (use MeshTimeout)."""

from reconciler.kinds.spec import Category, KindSpec

KIND = KindSpec(
    name="Timeout",
    package="timeout",
    category=Category.LEGACY,
    summary="Legacy connect, TCP, HTTP and gRPC timeouts of traffic to destinations.",
    flat=True,
    not_applied=(
        "legacy kind Timeout (accepted and validated as Kuma 2.14 does); use MeshTimeout instead"
    ),
    replacement="MeshTimeout",
    order=2070,
)
