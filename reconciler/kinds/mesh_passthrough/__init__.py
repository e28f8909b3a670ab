"""MeshPassthrough: which destinations outside the mesh transparent-proxied traffic may reach."""

from reconciler.kinds.spec import Category, KindSpec, Shape
from reconciler.targetref import DATAPLANE, MESH, MESH_SUBSET

KIND = KindSpec(
    name="MeshPassthrough",
    package="mesh_passthrough",
    category=Category.POLICY,
    summary="Traffic to destinations outside the mesh (domains, IPs, CIDRs) via transparent proxying.",
    shape=Shape(top=(MESH, MESH_SUBSET, DATAPLANE), required=False),
    not_applied=(
        "MeshPassthrough: it needs transparent proxying, which this control plane does not "
        "configure (proxies get no passthrough listener)"
    ),
    order=120,
)
