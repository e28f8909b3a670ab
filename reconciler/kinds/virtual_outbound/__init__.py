"""VirtualOutbound: legacy Kuma kind, validated as Kuma 2.14 does and not applied (use HostnameGenerator (with MeshService))."""

from reconciler.kinds.spec import Category, KindSpec

KIND = KindSpec(
    name="VirtualOutbound",
    package="virtual_outbound",
    category=Category.LEGACY,
    summary="Legacy hostname and port templates generating virtual outbounds of proxies.",
    flat=True,
    not_applied=(
        "legacy kind VirtualOutbound (accepted and validated as Kuma 2.14 does); "
        "use HostnameGenerator (with MeshService) instead"
    ),
    replacement="HostnameGenerator (with MeshService)",
    order=2110,
)
