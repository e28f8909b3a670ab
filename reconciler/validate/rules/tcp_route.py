"""MeshTCPRoute (Kuma 2.14 ``meshtcproute/api/v1alpha1/validator.go``)."""

from __future__ import annotations

from collections.abc import Iterable

from reconciler import codes
from reconciler.diagnostics import Diagnostic
from reconciler.model import Resource
from reconciler.validate.rules import sections as s
from reconciler.validate.rules import targetrefs as t
from reconciler.validate.rules.findings import Findings, as_list, as_map
from reconciler.validate.rules.http_route import BACKEND_KINDS, check_backend_ref

TOP_KINDS = (
    t.MESH,
    t.MESH_SUBSET,
    t.MESH_GATEWAY,
    t.MESH_SERVICE,
    t.MESH_SERVICE_SUBSET,
    t.DATAPLANE,
)
TO_KINDS = (t.MESH_SERVICE, t.MESH_EXTERNAL_SERVICE, t.MESH_MULTI_ZONE_SERVICE)


def check(resource: Resource) -> Iterable[Diagnostic]:
    f = Findings(resource)
    spec = resource.spec
    t.check_target_ref(
        f, ("targetRef",), spec.get("targetRef"), TOP_KINDS, where="as top-level targetRef"
    )
    kinds = (t.MESH,) if t.top_kind(spec) == t.MESH_GATEWAY else TO_KINDS
    for i, to in enumerate(s.section(spec, "to")):
        if not isinstance(to, dict):
            continue
        t.check_target_ref(f, ("to", i, "targetRef"), to.get("targetRef"), kinds, where="in to[]")
        for j, rule in enumerate(as_list(to.get("rules"))):
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
    return f.diagnostics
