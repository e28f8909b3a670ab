"""FaultInjection: legacy Kuma kind, validated as Kuma 2.14 does and not applied (use MeshFaultInjection)."""

from reconciler.kinds.spec import Category, KindSpec

KIND = KindSpec(
    name="FaultInjection",
    package="fault_injection",
    category=Category.LEGACY,
    summary="Legacy HTTP fault injection (delay, abort, response bandwidth) between services.",
    flat=True,
    not_applied=(
        "legacy kind FaultInjection (accepted and validated as Kuma 2.14 does); "
        "use MeshFaultInjection instead"
    ),
    replacement="MeshFaultInjection",
    order=2090,
)
