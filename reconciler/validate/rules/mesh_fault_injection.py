"""MeshFaultInjection (Kuma 2.14 ``meshfaultinjection/api/v1alpha1/validator.go``).

``to`` applies to builtin gateways only, so it is accepted only when the top-level target
may select gateways; ``rules`` replace ``from`` and exclude ``to``.
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler import codes
from reconciler.diagnostics import Diagnostic
from reconciler.model import Resource
from reconciler.validate.rules import sections as s
from reconciler.validate.rules import targetrefs as t
from reconciler.validate.rules import values as v
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map

TOP_KINDS = (
    t.MESH,
    t.MESH_SUBSET,
    t.MESH_GATEWAY,
    t.MESH_SERVICE,
    t.MESH_SERVICE_SUBSET,
    t.DATAPLANE,
)
FROM_KINDS = (t.MESH, t.MESH_SUBSET, t.MESH_SERVICE_SUBSET, t.MESH_SERVICE)


def check(resource: Resource) -> Iterable[Diagnostic]:
    f = Findings(resource)
    spec = resource.spec
    ref = spec.get("targetRef")
    top = t.top_kind(spec)
    t.check_target_ref(
        f,
        ("targetRef",),
        ref,
        TOP_KINDS,
        inbound_policy=s.affects_inbounds(spec),
        where="as top-level targetRef",
    )
    if s.has(spec, "rules") and (s.has(spec, "to") or s.has(spec, "from")):
        f.add(codes.POLICY_SECTIONS, (), s.RULES_EXCLUDE_TO_FROM)
    if top == t.MESH_GATEWAY:
        s.forbid_section(f, spec, "from", s.MUST_NOT_BE_DEFINED)
    else:
        s.check_entries(f, spec, "from", FROM_KINDS, check_conf)
    if not t.includes_gateways(ref if isinstance(ref, dict) else None):
        s.forbid_section(f, spec, "to", s.MUST_NOT_BE_DEFINED + " (to[] applies to gateways only)")
    else:
        s.check_entries(f, spec, "to", (t.MESH,), check_conf)
    s.check_rules(f, spec, check_conf)
    return f.diagnostics


def check_conf(f: Findings, path: Path, value: object) -> None:
    for i, fault in enumerate(as_list(as_map(value).get("http"))):
        if not isinstance(fault, dict):
            continue
        base = (*path, "http", i)
        abort = fault.get("abort")
        if isinstance(abort, dict):
            v.status_code(f, (*base, "abort", "httpStatus"), abort.get("httpStatus"))
            v.percentage(f, (*base, "abort", "percentage"), abort.get("percentage"))
        delay = fault.get("delay")
        if isinstance(delay, dict):
            v.duration_not_negative(f, (*base, "delay", "value"), delay.get("value"))
            v.percentage(f, (*base, "delay", "percentage"), delay.get("percentage"))
        bandwidth = fault.get("responseBandwidth")
        if isinstance(bandwidth, dict):
            v.bandwidth(f, (*base, "responseBandwidth", "limit"), bandwidth.get("limit"))
            v.percentage(f, (*base, "responseBandwidth", "percentage"), bandwidth.get("percentage"))
