"""Workload: a logical group of data plane proxies (the identity of a workload)."""

from reconciler.kinds.spec import Category, KindSpec

KIND = KindSpec(
    name="Workload",
    package="workload",
    category=Category.RESOURCE,
    summary="A logical group of data plane proxies sharing one workload identity.",
    not_applied=(
        "the workload grouping: it only feeds workload identities (MeshIdentity SPIFFE IDs), "
        "which the reconciler does not issue"
    ),
)
