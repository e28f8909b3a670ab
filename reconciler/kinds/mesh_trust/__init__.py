"""MeshTrust: the CA bundles trusted for a trust domain; ``spec`` fields."""

from reconciler.kinds.spec import Category, KindSpec

KIND = KindSpec(
    name="MeshTrust",
    package="mesh_trust",
    category=Category.RESOURCE,
    summary="The CA bundles a mesh trusts for one SPIFFE trust domain.",
    not_applied=(
        "the trusted CA bundles: the reconciler's mTLS uses the Mesh's own CA (mtls backends), "
        "not MeshIdentity/MeshTrust workload identities"
    ),
)
