"""MeshTCPRoute (Kuma 2.14 ``meshtcproute/api/v1alpha1/validator.go``)."""

from __future__ import annotations

from reconciler import codes
from reconciler.model import Resource
from reconciler.validate.rules import sections as s
from reconciler.validate.rules.findings import Findings, as_list, as_map
from reconciler.validate.rules.targetrefs import BACKEND_KINDS, check_backend_ref


def check(f: Findings, resource: Resource) -> None:
    for i, to in enumerate(s.section(resource.spec, "to")):
        for j, rule in enumerate(as_list(as_map(to).get("rules"))):
            default = as_map(as_map(rule).get("default"))
            if isinstance(rule, dict) and not as_list(default.get("backendRefs")):
                f.add(
                    codes.SETTING_MISSING,
                    ("to", i, "rules", j, "default", "backendRefs"),
                    "must be defined",
                )
            for k, ref in enumerate(as_list(default.get("backendRefs"))):
                check_backend_ref(
                    f, ("to", i, "rules", j, "default", "backendRefs", k), ref, BACKEND_KINDS
                )
