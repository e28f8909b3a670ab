"""MeshTrafficPermission (Kuma 2.14 ``meshtrafficpermission/api/v1alpha1/validator.go``)."""

from __future__ import annotations

from reconciler import codes
from reconciler.kinds.mesh_traffic_permission import SHAPE
from reconciler.model import Resource
from reconciler.validate.rules import sections as s
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map, is_set

MATCH_LISTS = ("allow", "allowWithShadowDeny", "deny")


def check_from_default(f: Findings, path: Path, value: object) -> None:
    if value is not None and not isinstance(value, dict):
        return
    if not is_set(as_map(value).get("action")):
        f.add(codes.SETTING_MISSING, (*path, "action"), "must be defined")


def check(f: Findings, resource: Resource) -> None:
    spec = resource.spec
    for i, rule in enumerate(s.section(spec, "rules")):
        # Kuma validates a rule's default at the rule: rules[i].allow[j], not .default.allow
        found = Findings(f.resource)
        check_rule(found, ("rules", i), rule)
        f.merge_renamed(found, f"rules[{i}].default", f"rules[{i}]")
    s.check_entries(f, spec, "from", SHAPE.from_, check_from_default)


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
