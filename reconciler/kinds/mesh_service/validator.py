"""MeshService (Kuma 2.14 ``meshservice/api/v1alpha1/validator.go``): name length, selector."""

from __future__ import annotations

from reconciler import codes
from reconciler.model import Resource
from reconciler.validate.rules.findings import Findings, as_map
from reconciler.validate.rules.values import name_length

MAX_NAME_LENGTH = 63
SELECTORS = ("dataplaneTags", "dataplaneRef", "dataplaneLabels")


def check(f: Findings, resource: Resource) -> None:
    name_length(f, MAX_NAME_LENGTH)
    selector = as_map(resource.spec.get("selector"))
    if sum(1 for s in SELECTORS if selector.get(s) is not None) > 1:
        f.add(
            codes.SETTINGS_CONFLICT,
            ("selector",),
            "must specify only one of: dataplaneTags, dataplaneRef, or dataplaneLabels",
        )
