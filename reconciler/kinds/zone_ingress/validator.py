"""ZoneIngress (Kuma 2.14 ``zone_ingress_validator.go``): networking, available services."""

from __future__ import annotations

from dataclasses import replace

from reconciler import codes
from reconciler.kinds.zone_ingress.networking import check_networking
from reconciler.model import Resource
from reconciler.targetref import SERVICE_TAG
from reconciler.validate.rules.findings import Findings, as_list, as_map
from reconciler.validate.rules.targetrefs import check_tags

KUMA_FIELD = "availableService"
"""Kuma reports ``availableServices[i]`` problems under this (singular) name; so do we,
while the position points at the real field."""


def check(f: Findings, resource: Resource) -> None:
    data = resource.data
    check_networking(f, data.get("networking"), advertised=True)
    found = Findings(resource)
    for i, available in enumerate(as_list(data.get("availableServices"))):
        path = ("availableServices", i, "tags")
        tags = as_map(available).get("tags")
        check_tags(found, path, tags, selector=False)
        if not isinstance(tags, dict) or SERVICE_TAG not in tags:
            found.add(codes.SETTING_MISSING, path, f'mandatory tag "{SERVICE_TAG}" is missing')
    for diag in found.diagnostics:
        field = (diag.field or "").replace("availableServices[", f"{KUMA_FIELD}[", 1)
        f.diagnostics.append(replace(diag, field=field))
