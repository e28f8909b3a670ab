"""MeshLoadBalancingStrategy (Kuma 2.14 ``meshloadbalancingstrategy/api/v1alpha1/validator.go``)."""

from __future__ import annotations

from collections.abc import Iterable

from reconciler import codes
from reconciler.diagnostics import Diagnostic
from reconciler.model import Resource
from reconciler.validate.rules import sections as s
from reconciler.validate.rules import targetrefs as t
from reconciler.validate.rules import values as v
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map, is_number, is_set

TOP_KINDS = (
    t.MESH,
    t.MESH_SUBSET,
    t.MESH_GATEWAY,
    t.MESH_SERVICE,
    t.MESH_SERVICE_SUBSET,
    t.DATAPLANE,
)
TO_KINDS = (
    t.MESH,
    t.MESH_SERVICE,
    t.MESH_EXTERNAL_SERVICE,
    t.MESH_MULTI_ZONE_SERVICE,
    t.MESH_HTTP_ROUTE,
)
HASH_FIELD = {
    "Header": "header",
    "Cookie": "cookie",
    "QueryParameter": "queryParameter",
    "FilterState": "filterState",
}
MAX_RING_SIZE = 8_388_608


def check(resource: Resource) -> Iterable[Diagnostic]:
    f = Findings(resource)
    spec = resource.spec
    t.check_target_ref(
        f, ("targetRef",), spec.get("targetRef"), TOP_KINDS, where="as top-level targetRef"
    )
    if not s.has(spec, "to"):
        f.add(codes.POLICY_SECTIONS, ("to",), s.NEEDS_ONE_ITEM)
    kinds = (t.MESH,) if t.top_kind(spec) == t.MESH_GATEWAY else TO_KINDS
    s.check_entries(f, spec, "to", kinds, check_conf)
    return f.diagnostics


def check_conf(f: Findings, path: Path, value: object) -> None:
    conf = as_map(value)
    lb = as_map(conf.get("loadBalancer"))
    lb_type = lb.get("type")
    ring = as_map(lb.get("ringHash"))
    for name in ("minRingSize", "maxRingSize"):
        size = ring.get(name)
        if is_number(size) and not 1 <= size <= MAX_RING_SIZE:
            f.add(
                codes.NUMBER_RANGE,
                (*path, "loadBalancer", "ringHash", name),
                f"must be in inclusive range [1, {MAX_RING_SIZE}]",
            )
    low, high = ring.get("minRingSize"), ring.get("maxRingSize")
    if is_number(low) and is_number(high) and low > high:
        f.add(
            codes.SETTINGS_CONFLICT,
            (*path, "loadBalancer", "ringHash", "minRingSize"),
            "must be less than or equal to maxRingSize",
        )
    choice = as_map(lb.get("leastRequest")).get("choiceCount")
    if is_number(choice) and choice < 2:
        f.add(
            codes.NUMBER_RANGE,
            (*path, "loadBalancer", "leastRequest", "choiceCount"),
            "must be greater or equal then: 2",
        )
    for block in ("ringHash", "maglev"):
        if lb_type in ("RingHash", "Maglev"):
            check_hash_policies(
                f,
                (*path, "loadBalancer", block, "hashPolicies"),
                as_map(lb.get(block)).get("hashPolicies"),
            )
    check_hash_policies(f, (*path, "hashPolicies"), conf.get("hashPolicies"))
    _check_locality(f, (*path, "localityAwareness"), conf.get("localityAwareness"))


def check_hash_policies(f: Findings, path: Path, value: object) -> None:
    for i, policy in enumerate(as_list(value)):
        if not isinstance(policy, dict):
            continue
        field = HASH_FIELD.get(str(policy.get("type")))
        if field is not None and not is_set(policy.get(field)):
            f.add(
                codes.SETTING_MISSING,
                (*path, i, field),
                f"must be defined when type is {policy.get('type')}",
            )


def _check_locality(f: Findings, path: Path, value: object) -> None:
    locality = as_map(value)
    cross = as_map(locality.get("crossZone"))
    for i, failover in enumerate(as_list(cross.get("failover"))):
        to = as_map(as_map(failover).get("to"))
        kind = to.get("type")
        zones = to.get("zones")
        if kind in ("Only", "AnyExcept") and not is_set(zones):
            f.add(
                codes.SETTING_MISSING,
                (*path, "crossZone", "failover", i, "to", "zones"),
                f"must not be empty when type is {kind}",
            )
        if kind in ("None", "Any") and is_set(zones):
            f.add(
                codes.SETTINGS_CONFLICT,
                (*path, "crossZone", "failover", i, "to", "zones"),
                f"must be empty when type is {kind}",
            )
    threshold = as_map(cross.get("failoverThreshold")).get("percentage")
    if threshold is not None:
        v.percentage(
            f, (*path, "crossZone", "failoverThreshold", "percentage"), threshold, allow_zero=False
        )
