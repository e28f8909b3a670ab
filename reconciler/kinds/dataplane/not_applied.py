"""What Kuma 2.14 applies from a Dataplane and the reconciler does not (RC320 warnings)."""

from __future__ import annotations

from reconciler import codes
from reconciler.model import Resource
from reconciler.targetref import SERVICE_TAG
from reconciler.validate.rules.findings import Findings, as_list, as_map, is_set

DATAPLANE_FIELDS_NOT_APPLIED = {
    "gateway": "builtin or delegated gateway proxies",
    "transparentProxying": (
        "transparent proxying: Kuma 2.14 would replace networking.outbound with an outbound per "
        "VIP of the mesh (kuma.io/service VIPs unless the Mesh's meshServices.mode is Exclusive, "
        "MeshService and MeshExternalService VIPs filtered by reachableBackends); here each "
        "listed outbound listens on its own address and port"
    ),
    "listeners": "zone proxy listeners (ZoneIngress, ZoneEgress)",
    "probes": "virtual probes",
    "metrics": "per-proxy metrics",
    "admin": None,
}


TRANSPARENT_PROXY_LISTS = {
    "reachableBackends": (
        "reachableBackends: Kuma limits the MeshService/MeshExternalService outbounds it "
        "generates under transparent proxying to these (with meshServices.mode "
        "ReachableBackends, none without this list); here only networking.outbound is used"
    ),
    "reachableServices": (
        "reachableServices: Kuma limits the kuma.io/service outbounds it generates under "
        "transparent proxying to these; here only networking.outbound is used"
    ),
}
"""Kuma ``resolveVIPOutbounds``: these lists filter VIP outbounds, which exist only with
transparent proxying (or kuma-dp's bind-outbounds); a Dataplane's listed outbounds are used
as written in every ``meshServices.mode`` (``asOutbounds``)."""


def check(f: Findings, resource: Resource) -> None:
    networking = as_map(resource.data.get("networking"))
    for field, what in DATAPLANE_FIELDS_NOT_APPLIED.items():
        if what is not None and is_set(networking.get(field)):
            f.add(
                codes.NOT_APPLIED, ("networking", field), f"not applied by the reconciler: {what}"
            )
    proxying = as_map(networking.get("transparentProxying"))
    for field, what in TRANSPARENT_PROXY_LISTS.items():
        if is_set(proxying.get(field)):
            f.add(
                codes.NOT_APPLIED,
                ("networking", "transparentProxying", field),
                f"not applied by the reconciler: {what}",
            )
    for i, inbound in enumerate(as_list(networking.get("inbound"))):
        tags = as_map(as_map(inbound).get("tags"))
        if isinstance(inbound, dict) and not tags:
            f.add(
                codes.NOT_APPLIED,
                ("networking", "inbound", i),
                f"inbound without tags is not applied: the reconciler needs a {SERVICE_TAG} tag",
            )
    for i, outbound in enumerate(as_list(networking.get("outbound"))):
        kind = as_map(as_map(outbound).get("backendRef")).get("kind")
        if kind == "MeshMultiZoneService":
            f.add(
                codes.NOT_APPLIED,
                ("networking", "outbound", i, "backendRef", "kind"),
                "not applied by the reconciler: outbound backendRef to a MeshMultiZoneService",
            )
