"""MeshTrafficPermission (Kuma 2.14 ``meshtrafficpermission/api/v1alpha1/validator.go``)."""

from __future__ import annotations

from collections.abc import Iterable

from reconciler import codes
from reconciler.diagnostics import Diagnostic
from reconciler.model import Resource
from reconciler.validate.rules import sections as s
from reconciler.validate.rules import targetrefs as t
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map, is_set

TOP_KINDS = (t.MESH, t.MESH_SUBSET, t.MESH_SERVICE, t.MESH_SERVICE_SUBSET, t.DATAPLANE)
FROM_KINDS = (t.MESH, t.MESH_SUBSET, t.MESH_SERVICE, t.MESH_SERVICE_SUBSET)
MATCH_LISTS = ("allow", "allowWithShadowDeny", "deny")


def check(resource: Resource) -> Iterable[Diagnostic]:
    f = Findings(resource)
    spec = resource.spec
    t.check_target_ref(
        f,
        ("targetRef",),
        spec.get("targetRef"),
        TOP_KINDS,
        inbound_policy=s.affects_inbounds(spec),
        where="as top-level targetRef",
    )
    if s.has(spec, "from") and s.has(spec, "rules"):
        f.add(codes.POLICY_SECTIONS, (), s.RULES_EXCLUDE_FROM)
    if not s.has(spec, "from") and not s.has(spec, "rules"):
        f.add(codes.POLICY_SECTIONS, (), "at least one of 'from' or 'rules' has to be defined")
    for i, rule in enumerate(s.section(spec, "rules")):
        check_rule(f, ("rules", i), rule)
    s.check_entries(f, spec, "from", FROM_KINDS, check_from_default)
    return f.diagnostics


def check_from_default(f: Findings, path: Path, value: object) -> None:
    if value is not None and not isinstance(value, dict):
        return
    if not is_set(as_map(value).get("action")):
        f.add(codes.SETTING_MISSING, (*path, "action"), "must be defined")


def check_rule(f: Findings, path: Path, rule: object) -> None:
    if not isinstance(rule, dict):
        return
    default = rule.get("default")
    if default is not None and not isinstance(default, dict):
        return
    conf = as_map(default)
    if not any(as_list(conf.get(n)) for n in MATCH_LISTS):
        f.add(
            codes.SETTING_MISSING,
            (*path, "default"),
            "at least one of 'allow', 'allowWithShadowDeny', 'deny' has to be defined",
        )
    for name in MATCH_LISTS:
        for j, match in enumerate(as_list(conf.get(name))):
            s.check_match(f, (*path, "default", name, j), match)
