"""MeshProxyPatch: edits of the generated Envoy resources (clusters, listeners, filters, hosts)."""

from reconciler.kinds.spec import Category, KindSpec, Shape
from reconciler.targetref import TOP_LEVEL

KIND = KindSpec(
    name="MeshProxyPatch",
    package="mesh_proxy_patch",
    category=Category.POLICY,
    summary="Edits of the generated Envoy config: add, patch or remove clusters, listeners, "
    "filters and virtual hosts.",
    # Kuma's validator.go, system policy role (every policy of a universal control plane)
    shape=Shape(
        top=TOP_LEVEL,
        required=False,
        gateway_listener_tags=False,
    ),
    not_applied=None,
    order=200,  # after every other kind: its hook edits the assembled proxy
)
