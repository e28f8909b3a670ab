"""Dataplane: one proxy (inbounds, outbounds, admin); flat fields."""

from reconciler.kinds.spec import Category, KindSpec

KIND = KindSpec(
    name="Dataplane",
    package="dataplane",
    category=Category.CORE,
    summary="One data plane proxy (an Envoy beside a service replica): inbounds, outbounds.",
    flat=True,
    order=1,
)
