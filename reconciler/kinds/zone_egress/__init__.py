"""ZoneEgress: the proxy a zone's traffic to external services leaves through; flat, no ``mesh``."""

from reconciler.kinds.spec import Category, KindSpec, Scope

KIND = KindSpec(
    name="ZoneEgress",
    package="zone_egress",
    category=Category.RESOURCE,
    summary="The zone proxy through which external services and other zones are reached.",
    scope=Scope.GLOBAL,
    flat=True,
    not_applied=(
        "the zone egress proxy: the reconciler compiles no zone proxies, and sidecars do not "
        "route external or cross-zone traffic through an egress"
    ),
)
