"""TrafficPermission (Kuma 2.14 ``traffic_permission_validator.go``): sources and destinations."""

from __future__ import annotations

from reconciler.model import Resource
from reconciler.validate.rules.findings import Findings
from reconciler.validate.rules.selectors import ANY_TAGS, check_selectors


def check(f: Findings, resource: Resource) -> None:
    data = resource.spec
    check_selectors(f, ("sources",), data.get("sources"), ANY_TAGS)
    check_selectors(f, ("destinations",), data.get("destinations"), ANY_TAGS)
