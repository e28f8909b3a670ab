"""ProxyTemplate: legacy Kuma kind, validated as Kuma 2.14 does and not applied (use MeshProxyPatch)."""

from reconciler.kinds.spec import Category, KindSpec

KIND = KindSpec(
    name="ProxyTemplate",
    package="proxy_template",
    category=Category.LEGACY,
    summary="Legacy customization of the Envoy configuration of selected proxies (raw resources, modifications).",
    flat=True,
    not_applied=(
        "legacy kind ProxyTemplate (accepted and validated as Kuma 2.14 does); "
        "use MeshProxyPatch instead"
    ),
    replacement="MeshProxyPatch",
    order=2120,
)
