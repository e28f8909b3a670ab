"""MeshTimeout (Kuma 2.14 ``meshtimeout/api/v1alpha1/validator.go``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

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
    t.MESH_HTTP_ROUTE,
    t.DATAPLANE,
)
TO_KINDS = (
    t.MESH,
    t.MESH_SERVICE,
    t.MESH_EXTERNAL_SERVICE,
    t.MESH_MULTI_ZONE_SERVICE,
    t.MESH_HTTP_ROUTE,
)
FROM_KINDS = (t.MESH,)
HTTP_TIMEOUTS = (
    "requestTimeout",
    "streamIdleTimeout",
    "maxStreamDuration",
    "maxConnectionDuration",
    "requestHeadersTimeout",
)
ROUTE_MESSAGE = "can't be specified when top-level TargetRef is referencing MeshHTTPRoute"


def check(resource: Resource) -> Iterable[Diagnostic]:
    f = Findings(resource)
    spec = resource.spec
    top = t.top_kind(spec)
    t.check_target_ref(
        f,
        ("targetRef",),
        spec.get("targetRef"),
        TOP_KINDS,
        inbound_policy=s.affects_inbounds(spec),
        where="as top-level targetRef",
    )
    if s.has(spec, "rules") and (s.has(spec, "to") or s.has(spec, "from")):
        f.add(codes.POLICY_SECTIONS, (), s.RULES_EXCLUDE_TO_FROM)
    if not (s.has(spec, "to") or s.has(spec, "from") or s.has(spec, "rules")):
        f.add(codes.POLICY_SECTIONS, (), s.AT_LEAST_ONE_OF_TO_FROM_RULES)

    def conf(f: Findings, path: Path, value: object) -> None:
        check_conf(f, path, value, top)

    if top in (t.MESH_HTTP_ROUTE, t.MESH_GATEWAY):
        s.forbid_section(f, spec, "from", s.MUST_NOT_BE_DEFINED)
        s.check_entries(f, spec, "to", (t.MESH,), conf)
    else:
        s.check_entries(f, spec, "from", FROM_KINDS, conf)
        s.check_entries(f, spec, "to", TO_KINDS, conf)
    s.check_rules(f, spec, conf)
    for i, rule in enumerate(s.section(spec, "rules")):
        rule = as_map(rule)
        if any(as_map(m).get("spiffeID") is not None for m in as_list(rule.get("matches"))):
            _source_conditioned(f, ("rules", i, "default"), as_map(rule.get("default")))
    return f.diagnostics


SOURCE_MESSAGE = (
    "can't be specified when matches contain spiffeID because this field cannot be "
    "conditioned on source identity"
)


def _source_conditioned(f: Findings, path: Path, conf: Mapping[str, Any]) -> None:
    for name in ("connectionTimeout", "idleTimeout"):
        if conf.get(name) is not None:
            f.add(codes.SETTINGS_CONFLICT, (*path, name), SOURCE_MESSAGE)
    http = as_map(conf.get("http"))
    for name in ("requestHeadersTimeout", "maxStreamDuration", "maxConnectionDuration"):
        if http.get(name) is not None:
            f.add(codes.SETTINGS_CONFLICT, (*path, "http", name), SOURCE_MESSAGE)


def check_conf(f: Findings, path: Path, value: object, top: str) -> None:
    if value is not None and not isinstance(value, dict):
        return
    conf = as_map(value)
    if not s.require_any(
        f,
        path,
        conf,
        ("connectionTimeout", "idleTimeout", "http"),
        "at least one timeout should be configured",
    ):
        return
    http = conf.get("http")
    if top == t.MESH_HTTP_ROUTE:
        for name in ("connectionTimeout", "idleTimeout"):
            if conf.get(name) is not None:
                f.add(codes.SETTINGS_CONFLICT, (*path, name), ROUTE_MESSAGE)
        for name in ("maxStreamDuration", "maxConnectionDuration"):
            if as_map(http).get(name) is not None:
                f.add(codes.SETTINGS_CONFLICT, (*path, "http", name), ROUTE_MESSAGE)
    v.duration_gt_zero_or_nil(f, (*path, "connectionTimeout"), conf.get("connectionTimeout"))
    v.duration_not_negative_or_nil(f, (*path, "idleTimeout"), conf.get("idleTimeout"))
    if isinstance(http, dict):
        if not any(http.get(n) is not None for n in HTTP_TIMEOUTS[:4]):
            f.add(
                codes.SETTING_MISSING,
                (*path, "http"),
                "at least one timeout in this section should be configured",
            )
        for name in HTTP_TIMEOUTS:
            v.duration_not_negative_or_nil(f, (*path, "http", name), http.get(name))
