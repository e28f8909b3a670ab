"""MeshHTTPRoute: HTTP routing of outbound traffic (matches, filters, weighted backends)."""

from reconciler.kinds.spec import Category, KindSpec, Shape
from reconciler.targetref import MESH_GATEWAY, SERVICES, TOP_LEVEL

KIND = KindSpec(
    name="MeshHTTPRoute",
    package="mesh_http_route",
    category=Category.POLICY,
    summary="Route HTTP requests by path, method, headers or query to weighted backends.",
    shape=Shape(
        top=TOP_LEVEL,
        to=SERVICES,
        required=False,
        narrowed=(MESH_GATEWAY,),
        to_defaults=False,
    ),
    order=20,
)


def all_weights_zero(backend_refs: object) -> bool:
    """Every backendRef weighs 0: Kuma accepts the rule, then leaves it out of the routes
    (``MakeHTTPSplit`` gives no split). Validation warns (RC503); compile drops it quietly."""
    if not isinstance(backend_refs, list) or not backend_refs:
        return False
    weights = [r.get("weight", 1) if isinstance(r, dict) else 1 for r in backend_refs]
    return all(w == 0 and not isinstance(w, bool) for w in weights)
