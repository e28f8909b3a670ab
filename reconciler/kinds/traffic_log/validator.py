"""TrafficLog (Kuma 2.14 ``traffic_log_validator.go``): sources and destinations.

``conf`` and ``conf.backend`` may be empty: the Mesh's default logging backend is used.
"""

from __future__ import annotations

from reconciler.model import Resource
from reconciler.validate.rules.findings import Findings
from reconciler.validate.rules.selectors import ONLY_SERVICE, SOURCES, check_selectors


def check(f: Findings, resource: Resource) -> None:
    data = resource.spec
    check_selectors(f, ("sources",), data.get("sources"), SOURCES)
    check_selectors(f, ("destinations",), data.get("destinations"), ONLY_SERVICE)
