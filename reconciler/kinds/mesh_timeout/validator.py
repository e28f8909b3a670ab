"""MeshTimeout (Kuma 2.14 ``meshtimeout/api/v1alpha1/validator.go``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler import codes
from reconciler.model import Resource
from reconciler.validate.rules import sections as s
from reconciler.validate.rules import targetrefs as t
from reconciler.validate.rules import values as v
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map

HTTP_TIMEOUTS = (
    "requestTimeout",
    "streamIdleTimeout",
    "maxStreamDuration",
    "maxConnectionDuration",
    "requestHeadersTimeout",
)
ROUTE_MESSAGE = "can't be specified when top-level TargetRef is referencing MeshHTTPRoute"


def check(f: Findings, resource: Resource) -> None:
    for i, rule in enumerate(s.section(resource.spec, "rules")):
        rule = as_map(rule)
        if any(as_map(m).get("spiffeID") is not None for m in as_list(rule.get("matches"))):
            _source_conditioned(f, ("rules", i, "default"), as_map(rule.get("default")))


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


def check_default(f: Findings, path: Path, value: object, top: str) -> None:
    if value is not None and not isinstance(value, dict):
        return
    conf = as_map(value)
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
