"""ZoneIngress (Kuma 2.14 ``zone_ingress_validator.go``): networking, available services."""

from __future__ import annotations

from reconciler import codes
from reconciler.kinds.zone_ingress.networking import check_networking
from reconciler.model import Resource
from reconciler.targetref import SERVICE_TAG
from reconciler.validate.rules.findings import Findings, as_list, as_map
from reconciler.validate.rules.targetrefs import check_tags


def check(f: Findings, resource: Resource) -> None:
    data = resource.data
    check_networking(f, data.get("networking"), advertised=True)
    for i, available in enumerate(as_list(data.get("availableServices"))):
        # Kuma's path is "availableService[i].tags" (singular), kept as Kuma reports it.
        path = ("availableService", i, "tags")
        tags = as_map(available).get("tags")
        check_tags(f, path, tags, selector=False)
        if not isinstance(tags, dict) or SERVICE_TAG not in tags:
            f.add(codes.SETTING_MISSING, path, f'mandatory tag "{SERVICE_TAG}" is missing')
