"""MeshGateway: the listeners of a builtin gateway; flat fields next to ``type/name/mesh``."""

from reconciler.kinds.spec import Category, KindSpec

KIND = KindSpec(
    name="MeshGateway",
    package="mesh_gateway",
    category=Category.RESOURCE,
    summary="A builtin gateway: its listeners (port, protocol, hostname, TLS) and its proxies.",
    flat=True,
    not_applied=(
        "the builtin gateway (its selectors, tags and listeners): the reconciler compiles "
        "sidecar proxies only, no gateway listeners or routes"
    ),
)
