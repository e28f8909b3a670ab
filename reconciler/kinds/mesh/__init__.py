"""Mesh: the mesh itself (mTLS backends, initial policies); flat fields, no ``mesh``."""

from reconciler.kinds.spec import Category, KindSpec, Scope

KIND = KindSpec(
    name="Mesh",
    package="mesh",
    category=Category.CORE,
    summary="A mesh: mTLS backends, initial default policies, options of its proxies.",
    scope=Scope.GLOBAL,
    flat=True,
    order=0,
)
