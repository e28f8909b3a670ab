"""MeshGatewayRoute: legacy Kuma kind, validated as Kuma 2.14 does and not applied (use MeshHTTPRoute or MeshTCPRoute with a MeshGateway targetRef)."""

from reconciler.kinds.spec import Category, KindSpec

KIND = KindSpec(
    name="MeshGatewayRoute",
    package="mesh_gateway_route",
    category=Category.LEGACY,
    summary="Legacy HTTP and TCP routes of a builtin MeshGateway.",
    flat=True,
    not_applied=(
        "legacy kind MeshGatewayRoute (accepted and validated as Kuma 2.14 does); "
        "use MeshHTTPRoute or MeshTCPRoute with a MeshGateway targetRef instead"
    ),
    replacement="MeshHTTPRoute or MeshTCPRoute with a MeshGateway targetRef",
    order=2130,
)
