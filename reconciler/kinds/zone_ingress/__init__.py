"""ZoneIngress: the proxy that receives a zone's cross-zone traffic; flat fields, no ``mesh``."""

from reconciler.kinds.spec import Category, KindSpec, Scope

KIND = KindSpec(
    name="ZoneIngress",
    package="zone_ingress",
    category=Category.RESOURCE,
    summary="The zone proxy that receives traffic from other zones (multi-zone deployments).",
    scope=Scope.GLOBAL,
    flat=True,
    not_applied=(
        "the zone ingress proxy: the reconciler serves one zone's sidecars and compiles no "
        "zone proxies (no cross-zone listener, no SNI routing to the zone's services)"
    ),
)
