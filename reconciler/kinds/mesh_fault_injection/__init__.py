"""MeshFaultInjection: injected delays, aborts and bandwidth limits on inbound traffic."""

from reconciler.kinds.spec import Category, KindSpec, Shape
from reconciler.targetref import MESH, MESH_SERVICE, MESH_SERVICE_SUBSET, MESH_SUBSET, TOP_LEVEL

SHAPE = Shape(
    top=TOP_LEVEL,
    to=(MESH,),
    from_=(MESH, MESH_SUBSET, MESH_SERVICE_SUBSET, MESH_SERVICE),
    rules=True,
    required=False,
    own_sections=True,
)

KIND = KindSpec(
    name="MeshFaultInjection",
    package="mesh_fault_injection",
    category=Category.POLICY,
    summary="Inject delays, aborts and bandwidth limits into inbound HTTP traffic.",
    shape=SHAPE,
    order=90,
)
