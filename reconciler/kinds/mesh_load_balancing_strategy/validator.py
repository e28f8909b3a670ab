"""MeshLoadBalancingStrategy (Kuma 2.14 ``meshloadbalancingstrategy/api/v1alpha1/validator.go``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler import codes
from reconciler.kinds.mesh_load_balancing_strategy import SHAPE
from reconciler.model import Resource
from reconciler.validate.rules import sections as s
from reconciler.validate.rules import targetrefs as t
from reconciler.validate.rules import values as v
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map, is_set

HASH_FIELD = {
    "Connection": "connection",
    "SourceIP": "connection",
    "Header": "header",
    "Cookie": "cookie",
    "QueryParameter": "queryParameter",
    "FilterState": "filterState",
}


def check(f: Findings, resource: Resource) -> None:
    # An empty `to` is valid: it overrides (disables) inherited configuration.
    spec = resource.spec
    gateway = t.top_kind(spec) == t.MESH_GATEWAY
    for i, entry in enumerate(s.section(spec, "to")):
        if not isinstance(entry, dict):
            continue
        ref = entry.get("targetRef")
        conf = as_map(entry.get("default"))
        kinds = (t.MESH,) if gateway and conf.get("loadBalancer") is not None else SHAPE.to
        t.check_target_ref(f, ("to", i, "targetRef"), ref, kinds, where="in to[]")
        check_conf(f, ("to", i, "default"), conf, as_map(ref).get("kind"))
        _check_local_service(f, ("to", i, "default"), as_map(ref), conf)


def _check_local_service(
    f: Findings, path: Path, ref: Mapping[str, Any], conf: Mapping[str, Any]
) -> None:
    """Kuma: a MeshService port (sectionName) or label selection stays in its zone."""
    local = is_set(ref.get("sectionName")) or is_set(ref.get("labels"))
    cross = as_map(conf.get("localityAwareness")).get("crossZone")
    if ref.get("kind") == t.MESH_SERVICE and local and cross is not None:
        f.add(
            codes.SETTINGS_CONFLICT,
            (*path, "localityAwareness", "crossZone"),
            "must not be set: MeshService traffic is local",
        )


ROUTE_ONLY = (
    "field is not allowed when targetRef.kind is MeshHTTPRoute, only hashPolicies is supported"
)


def check_conf(f: Findings, path: Path, conf: Mapping[str, Any], to_kind: object) -> None:
    check_hash_policies(f, (*path, "hashPolicies"), conf.get("hashPolicies"))
    if to_kind == t.MESH_HTTP_ROUTE:
        for name in ("loadBalancer", "localityAwareness"):
            if conf.get(name) is not None:
                f.add(codes.SETTINGS_CONFLICT, (*path, name), ROUTE_ONLY)
        return
    lb = as_map(conf.get("loadBalancer"))
    for block in ("ringHash", "maglev"):
        policies = as_map(lb.get(block)).get("hashPolicies")
        if policies is None:
            continue
        if conf.get("hashPolicies") is not None:
            f.add(
                codes.SETTINGS_CONFLICT,
                (*path, "loadBalancer", block, "hashPolicies"),
                "hashPolicies already specified in the root level",
            )
        check_hash_policies(f, (*path, "loadBalancer", block, "hashPolicies"), policies)
    if lb.get("type") == "LeastRequest":
        bias = as_map(lb.get("leastRequest")).get("activeRequestBias")
        if bias is not None and not isinstance(bias, bool):
            number = v.decimal_value(bias)
            bias_path = (*path, "loadBalancer", "leastRequest", "activeRequestBias")
            if number is None:
                f.add(codes.NUMBER_RANGE, bias_path, "string must be a valid number")
            elif number < 0:
                f.add(codes.NUMBER_RANGE, bias_path, "must be greater or equal then: 0")
    _check_locality(f, (*path, "localityAwareness"), conf.get("localityAwareness"))


def check_hash_policies(f: Findings, path: Path, value: object) -> None:
    for i, policy in enumerate(as_list(value)):
        if not isinstance(policy, dict):
            continue
        field = HASH_FIELD.get(str(policy.get("type")))
        if field is not None and policy.get(field) is None:
            f.add(codes.SETTING_MISSING, (*path, i, field), "must be defined")
        cookie_path = as_map(policy.get("cookie")).get("path")
        if (
            policy.get("type") == "Cookie"
            and isinstance(cookie_path, str)
            and not cookie_path.startswith("/")
        ):
            f.add(
                codes.VALUE_NOT_ALLOWED,
                (*path, i, "cookie", "path"),
                "must be an absolute path",
            )


def _check_locality(f: Findings, path: Path, value: object) -> None:
    locality = as_map(value)
    tags = as_list(as_map(locality.get("localZone")).get("affinityTags"))
    weighted = 0
    for i, tag in enumerate(tags):
        tag = as_map(tag)
        tpath = (*path, "localZone", "affinityTags", i)
        if tag.get("key") == "":
            f.add(codes.SETTING_MISSING, (*tpath, "key"), "must not be empty")
        if tag.get("weight") is not None:
            weighted += 1
            v.int_greater_than(f, (*tpath, "weight"), tag.get("weight"))
    if 0 < weighted < len(tags):
        f.add(
            codes.SETTINGS_CONFLICT,
            (*path, "localZone", "affinityTags"),
            "all or none affinity tags should have weight",
        )
    cross = as_map(locality.get("crossZone"))
    for i, failover in enumerate(as_list(cross.get("failover"))):
        fpath = (*path, "crossZone", "failover", i)
        source = as_map(failover).get("from")
        if isinstance(source, dict):
            zones = source.get("zones")
            if (isinstance(zones, list) and not zones) or zones is None:
                f.add(codes.SETTING_MISSING, (*fpath, "from", "zones"), "must not be empty")
            for j, zone in enumerate(as_list(zones)):
                if zone == "":
                    f.add(codes.SETTING_MISSING, (*fpath, "from", "zones", j), "must not be empty")
        to = as_map(as_map(failover).get("to"))
        kind = to.get("type")
        zones = to.get("zones")
        if kind in ("Only", "AnyExcept") and not is_set(zones):
            f.add(
                codes.SETTING_MISSING,
                (*fpath, "to", "zones"),
                f"must not be empty when type is {kind}",
            )
        if kind in ("None", "Any") and is_set(zones):
            f.add(
                codes.SETTINGS_CONFLICT,
                (*fpath, "to", "zones"),
                f"must be empty when type is {kind}",
            )
    threshold = as_map(cross.get("failoverThreshold")).get("percentage")
    if threshold is not None:
        v.percentage(
            f, (*path, "crossZone", "failoverThreshold", "percentage"), threshold, allow_zero=False
        )
