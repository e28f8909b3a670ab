"""ExternalService: legacy Kuma kind, validated as Kuma 2.14 does and not applied (use MeshExternalService)."""

from reconciler.kinds.spec import Category, KindSpec

KIND = KindSpec(
    name="ExternalService",
    package="external_service",
    category=Category.LEGACY,
    summary="Legacy service outside the mesh (address, TLS, tags) reachable from proxies.",
    flat=True,
    not_applied=(
        "legacy kind ExternalService (accepted and validated as Kuma 2.14 does); "
        "use MeshExternalService instead"
    ),
    replacement="MeshExternalService",
    order=2100,
)
