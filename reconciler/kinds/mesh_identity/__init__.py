"""MeshIdentity: how the proxies of a mesh get their workload identity (SPIFFE ID, CA)."""

from reconciler.kinds.spec import Category, KindSpec

KIND = KindSpec(
    name="MeshIdentity",
    package="mesh_identity",
    category=Category.RESOURCE,
    summary="Workload identities of selected proxies: SPIFFE ID templates and certificate provider.",
    not_applied=(
        "the workload identity (SPIFFE IDs and the bundled, SPIRE or extension provider): the "
        "reconciler's mTLS issues certificates from the Mesh's mtls backend only"
    ),
)
