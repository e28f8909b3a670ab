"""MeshHTTPRoute (Kuma 2.14 ``meshhttproute/api/v1alpha1/validation.go``)."""

from __future__ import annotations

import ipaddress
from typing import Any

from reconciler import codes
from reconciler.kinds.mesh_http_route import all_weights_zero
from reconciler.model import Resource
from reconciler.validate.rules import sections as s
from reconciler.validate.rules import targetrefs as t
from reconciler.validate.rules import values as v
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map, is_set
from reconciler.validate.rules.targetrefs import BACKEND_KINDS, check_backend_ref

MIRROR_KINDS = (t.MESH_SERVICE, t.MESH_SERVICE_SUBSET)
PREFIX_ONLY = "can only appear if all matches match a path prefix"


def check(f: Findings, resource: Resource) -> None:
    spec = resource.spec
    top = t.top_kind(spec)
    for i, to in enumerate(s.section(spec, "to")):
        if not isinstance(to, dict):
            continue
        if top != t.MESH_GATEWAY and is_set(to.get("hostnames")):
            f.add(
                codes.SETTINGS_CONFLICT,
                ("to", i, "hostnames"),
                "must not be defined (hostnames apply to MeshGateway routes only)",
            )
        for j, rule in enumerate(as_list(to.get("rules"))):
            if isinstance(rule, dict):
                check_rule(f, ("to", i, "rules", j), rule, top)


def check_rule(f: Findings, path: Path, rule: dict[str, Any], top: str) -> None:
    matches = [m for m in as_list(rule.get("matches")) if isinstance(m, dict)]
    for k, match in enumerate(as_list(rule.get("matches"))):
        if isinstance(match, dict):
            _check_match(f, (*path, "matches", k), match)
    default = as_map(rule.get("default"))
    filters = as_list(default.get("filters"))
    for k, flt in enumerate(filters):
        if isinstance(flt, dict):
            _check_filter(f, (*path, "default", "filters", k), flt, matches, top)
    backends = as_list(default.get("backendRefs"))
    redirects = any(as_map(x).get("type") == "RequestRedirect" for x in filters)
    if not backends and top == t.MESH_GATEWAY and not redirects:
        f.add(codes.SETTING_MISSING, (*path, "default", "backendRefs"), "must not be empty")
    for k, ref in enumerate(backends):
        check_backend_ref(f, (*path, "default", "backendRefs", k), ref, BACKEND_KINDS)
    if all_weights_zero(backends):
        f.add(
            codes.ROUTE_NO_BACKEND,
            (*path, "default", "backendRefs"),
            "every backendRef has weight 0: Kuma drops this rule and its requests fall "
            "through to the next matching route",
        )


def _check_match(f: Findings, path: Path, match: dict[str, Any]) -> None:
    p = as_map(match.get("path"))
    value = p.get("value")
    if isinstance(value, str):
        if p.get("type") == "PathPrefix" and value != "/":
            if value.endswith("/"):
                f.add(
                    codes.VALUE_NOT_ALLOWED,
                    (*path, "path", "value"),
                    "does not need a trailing slash because only a `/`-separated prefix or an entire path is matched",
                )
            if not value.startswith("/"):
                f.add(codes.VALUE_NOT_ALLOWED, (*path, "path", "value"), "must be an absolute path")
        elif p.get("type") == "Exact" and not value.startswith("/"):
            f.add(codes.VALUE_NOT_ALLOWED, (*path, "path", "value"), "must be an absolute path")
    seen: set[str] = set()
    for i, param in enumerate(as_list(match.get("queryParams"))):
        name = as_map(param).get("name")
        if isinstance(name, str):
            if name in seen:
                f.add(
                    codes.SETTINGS_CONFLICT,
                    (*path, "queryParams", i, "name"),
                    f"multiple entries for name {name}",
                )
            seen.add(name)
    for i, header in enumerate(as_list(match.get("headers"))):
        h = as_map(header)
        if h.get("type") in ("Present", "Absent") and is_set(h.get("value")):
            f.add(
                codes.SETTINGS_CONFLICT,
                (*path, "headers", i, "value"),
                f"must not be defined with type {h.get('type')}",
            )


def _has_non_prefix_match(matches: list[dict[str, Any]]) -> bool:
    return any(as_map(m.get("path")).get("type") != "PathPrefix" for m in matches)


def _check_filter(
    f: Findings, path: Path, flt: dict[str, Any], matches: list[dict[str, Any]], top: str
) -> None:
    kind = flt.get("type")
    field = {
        "RequestHeaderModifier": "requestHeaderModifier",
        "ResponseHeaderModifier": "responseHeaderModifier",
        "RequestRedirect": "requestRedirect",
        "URLRewrite": "urlRewrite",
        "RequestMirror": "requestMirror",
    }.get(str(kind))
    if field is None:
        return
    body = flt.get(field)
    if body is None:
        f.add(codes.SETTING_MISSING, (*path, field), "must be defined")
        return
    if not isinstance(body, dict):
        return
    if field in ("requestHeaderModifier", "responseHeaderModifier"):
        _check_header_modifier(f, (*path, field), body)
    elif field in ("requestRedirect", "urlRewrite"):
        if as_map(body.get("path")).get("replacePrefixMatch") is not None and _has_non_prefix_match(
            matches
        ):
            f.add(
                codes.SETTINGS_CONFLICT, (*path, field, "path", "replacePrefixMatch"), PREFIX_ONLY
            )
        _check_precise_hostname(f, (*path, field, "hostname"), body.get("hostname"))
        if field == "urlRewrite" and body.get("hostToBackendHostname") is True:
            if top != t.MESH_GATEWAY:
                f.add(
                    codes.SETTINGS_CONFLICT,
                    (*path, field, "hostToBackendHostname"),
                    "can only be set with MeshGateway",
                )
            if body.get("hostname") is not None:
                f.add(
                    codes.SETTINGS_CONFLICT,
                    (*path, field, "hostToBackendHostname"),
                    "cannot be set together with hostname",
                )
    elif field == "requestMirror":
        t.check_target_ref(
            f,
            (*path, field, "backendRef"),
            body.get("backendRef"),
            MIRROR_KINDS,
            where="as mirror backendRef",
        )
        if isinstance(body.get("percentage"), str | int | float):
            v.percentage(f, (*path, field, "percentage"), body.get("percentage"))


def _check_header_modifier(f: Findings, path: Path, body: dict[str, Any]) -> None:
    if all(body.get(n) is None for n in ("set", "add", "remove")):
        f.add(codes.SETTING_MISSING, path, s.at_least_one("set", "add", "remove"))
        return
    seen: set[str] = set()
    entries: list[tuple[Path, object]] = []
    for name in ("set", "add"):
        for i, item in enumerate(as_list(body.get(name))):
            entries.append(((*path, name, i, "name"), as_map(item).get("name")))
    for i, item in enumerate(as_list(body.get("remove"))):
        entries.append(((*path, "remove", i), item))
    for where, header in entries:
        if isinstance(header, str):
            if header.lower() in seen:
                f.add(codes.SETTINGS_CONFLICT, where, f"duplicate header name {header!r}")
            seen.add(header.lower())


def _check_precise_hostname(f: Findings, path: Path, value: object) -> None:
    if not isinstance(value, str):
        return
    try:
        ipaddress.ip_address(value)
    except ValueError:
        pass
    else:
        f.add(codes.NAME_FORMAT, path, "cannot be an IP address")
        return
    # the RFC 1123 format itself is a pattern of the schema
