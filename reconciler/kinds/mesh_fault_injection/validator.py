"""MeshFaultInjection (Kuma 2.14 ``meshfaultinjection/api/v1alpha1/validator.go``).

A target that may include builtin gateways (``Mesh``/``MeshSubset`` without
``proxyTypes: [Sidecar]``, MeshGateway, MeshHTTPRoute) takes ``to``; a sidecar target takes
``from`` or ``rules`` (``rules`` replace ``from``).
"""

from __future__ import annotations

from reconciler.kinds.mesh_fault_injection import SHAPE
from reconciler.kinds.mesh_rate_limit.validator import GATEWAY_SCOPE
from reconciler.model import Resource
from reconciler.validate.rules import sections as s
from reconciler.validate.rules import targetrefs as t
from reconciler.validate.rules import values as v
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map

FROM_KINDS = SHAPE.from_


def check(f: Findings, resource: Resource) -> None:
    spec = resource.spec
    ref = spec.get("targetRef")
    gateways = t.includes_gateways(ref if isinstance(ref, dict) else None)
    if gateways:
        s.forbid_section(f, spec, "from", f"{s.MUST_NOT_BE_DEFINED} {GATEWAY_SCOPE}")
    else:
        s.check_entries(f, spec, "from", FROM_KINDS, _conf)
    if not gateways:
        s.forbid_section(f, spec, "to", s.MUST_NOT_BE_DEFINED)
    else:
        s.check_entries(f, spec, "to", (t.MESH,), _conf)
    s.check_rules(f, spec, _conf)


def _conf(f: Findings, path: Path, value: object) -> None:
    check_conf(f, path, value)


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
