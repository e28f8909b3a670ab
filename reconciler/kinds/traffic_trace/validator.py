"""TrafficTrace (Kuma 2.14 ``traffic_trace_validator.go``): selectors.

``conf`` and ``conf.backend`` may be empty: the Mesh's default tracing backend is used.
"""

from __future__ import annotations

from reconciler.model import Resource
from reconciler.validate.rules.findings import Findings
from reconciler.validate.rules.selectors import ANY_TAGS, check_selectors


def check(f: Findings, resource: Resource) -> None:
    check_selectors(f, ("selectors",), resource.spec.get("selectors"), ANY_TAGS)
