"""ZoneEgress (Kuma 2.14 ``zone_egress_validator.go``): networking."""

from __future__ import annotations

from reconciler.kinds.zone_ingress.networking import check_networking
from reconciler.model import Resource
from reconciler.validate.rules.findings import Findings


def check(f: Findings, resource: Resource) -> None:
    check_networking(f, resource.data.get("networking"), advertised=False)
