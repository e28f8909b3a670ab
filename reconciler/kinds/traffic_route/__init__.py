"""TrafficRoute: legacy Kuma kind, validated as Kuma 2.14 does and not applied (use MeshHTTPRoute or MeshTCPRoute)."""

from reconciler.kinds.spec import Category, KindSpec

KIND = KindSpec(
    name="TrafficRoute",
    package="traffic_route",
    category=Category.LEGACY,
    summary="Legacy routing of traffic between services (split, destination, load balancer, HTTP rules).",
    flat=True,
    not_applied=(
        "legacy kind TrafficRoute (accepted and validated as Kuma 2.14 does); "
        "use MeshHTTPRoute or MeshTCPRoute instead"
    ),
    replacement="MeshHTTPRoute or MeshTCPRoute",
    order=2000,
)
