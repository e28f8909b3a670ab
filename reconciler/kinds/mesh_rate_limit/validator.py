"""MeshRateLimit (Kuma 2.14 ``meshratelimit/api/v1alpha1/validator.go``).

A target that may include builtin gateways (``Mesh``/``MeshSubset`` without
``proxyTypes: [Sidecar]``, MeshGateway, MeshHTTPRoute) takes ``to``; a sidecar target takes
``from`` or ``rules``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler import codes
from reconciler.model import Resource
from reconciler.validate.rules import sections as s
from reconciler.validate.rules import targetrefs as t
from reconciler.validate.rules import values as v
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map

GATEWAY_SCOPE = (
    "when the scope includes a Gateway, select only proxyType Sidecar or select only "
    "gateways and use spec.to"
)


def check(f: Findings, resource: Resource) -> None:
    spec = resource.spec
    ref = spec.get("targetRef")
    top = t.top_kind(spec)
    gateways = t.includes_gateways(ref if isinstance(ref, dict) else None)
    if gateways or top == t.MESH_HTTP_ROUTE:
        s.forbid_section(f, spec, "rules", s.MUST_NOT_BE_DEFINED)
    else:
        s.check_rules(f, spec, check_conf)
        _check_spiffe_tcp(f, spec)
    if gateways:
        s.forbid_section(f, spec, "from", f"{s.MUST_NOT_BE_DEFINED} {GATEWAY_SCOPE}")
    elif top == t.MESH_HTTP_ROUTE:
        s.forbid_section(
            f, spec, "from", f"{s.MUST_NOT_BE_DEFINED} when spec.kind is MeshHTTPRoute"
        )
    else:
        s.check_entries(f, spec, "from", (t.MESH,), check_conf)
    if not gateways:
        s.forbid_section(f, spec, "to", s.MUST_NOT_BE_DEFINED)
    else:
        s.check_entries(f, spec, "to", (t.MESH,), check_conf)


def check_conf(f: Findings, path: Path, value: object) -> None:
    if value is not None and not isinstance(value, dict):
        return
    local = as_map(value).get("local")
    lpath = (*path, "local")
    if local is None:
        f.add(codes.SETTING_MISSING, lpath, "must be defined")
        return
    if not isinstance(local, dict):
        return
    if local.get("tcp") is None and local.get("http") is None:
        f.add(codes.SETTING_MISSING, lpath, s.at_least_one("tcp", "http"))
    http = local.get("http")
    if isinstance(http, dict):
        if all(http.get(n) is None for n in ("disabled", "requestRate", "onRateLimit")):
            f.add(
                codes.SETTING_MISSING,
                (*lpath, "http"),
                s.at_least_one("disabled", "requestRate", "onRateLimit"),
            )
        else:
            _check_rate(f, (*lpath, "http", "requestRate"), http.get("requestRate"))
            status = as_map(http.get("onRateLimit")).get("status")
            v.int_greater_than(f, (*lpath, "http", "onRateLimit", "status"), status)
    tcp = local.get("tcp")
    if isinstance(tcp, dict):
        if tcp.get("disabled") is None and tcp.get("connectionRate") is None:
            f.add(
                codes.SETTING_MISSING, (*lpath, "tcp"), s.at_least_one("disabled", "connectionRate")
            )
        else:
            _check_rate(f, (*lpath, "tcp", "connectionRate"), tcp.get("connectionRate"))


def _check_rate(f: Findings, path: Path, value: object) -> None:
    if not isinstance(value, dict):
        return
    v.int_greater_than(f, (*path, "num"), value.get("num"))
    v.duration_greater_than(f, (*path, "interval"), value.get("interval"), 0.05)


SPIFFE_TCP = (
    "can't be specified when matches contain spiffeID because this field cannot be "
    "conditioned on source identity"
)


def _check_spiffe_tcp(f: Findings, spec: Mapping[str, Any]) -> None:
    for i, rule in enumerate(s.section(spec, "rules")):
        rule = as_map(rule)
        spiffe = any(as_map(m).get("spiffeID") is not None for m in as_list(rule.get("matches")))
        local = as_map(as_map(rule.get("default")).get("local"))
        if spiffe and local.get("tcp") is not None:
            f.add(codes.SETTINGS_CONFLICT, ("rules", i, "default", "local", "tcp"), SPIFFE_TCP)
