"""MeshTLS: mTLS mode (Permissive/Strict), TLS versions and ciphers of inbound traffic."""

from reconciler.kinds.spec import Category, KindSpec, Shape
from reconciler.targetref import DATAPLANE, MESH, MESH_SUBSET

KIND = KindSpec(
    name="MeshTLS",
    package="mesh_tls",
    category=Category.POLICY,
    summary="mTLS mode (Permissive or Strict), TLS versions and ciphers of inbound traffic.",
    # Kuma's validator.go: neither `from` nor `rules` is required; rules carry no matches
    shape=Shape(
        top=(MESH, MESH_SUBSET, DATAPLANE),
        from_=(MESH,),
        rules=True,
        rule_matches=False,
        required=False,
    ),
    order=15,
)
