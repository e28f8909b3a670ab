"""HostnameGenerator: hostnames generated for services from a template; global, no ``mesh``."""

from reconciler.kinds.spec import Category, KindSpec, Scope

KIND = KindSpec(
    name="HostnameGenerator",
    package="hostname_generator",
    category=Category.RESOURCE,
    summary="Generates DNS hostnames for MeshServices, MeshExternalServices, MeshMultiZoneServices.",
    scope=Scope.GLOBAL,
)
