"""MeshGatewayRoute (Kuma 2.14 ``gateway_route_validator.go``): selectors, one route type,
HTTP rules (matches, filters, backends).

Kuma's paths here use the protobuf names of some fields (``request_header``,
``query_parameters``, ``status_code``) and report a match's path value at
``matches[i].value``; they are kept as Kuma writes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler import codes
from reconciler.model import Resource
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map, is_number
from reconciler.validate.rules.selectors import (
    SOURCES,
    check_selector,
    check_selectors,
    is_present,
    oneof_member,
    proto_field,
    proto_number,
)

EMPTY = "cannot be empty"
HOST_HEADERS = (":authority", "Host", "host")
PATH_MATCH = ("EXACT", "PREFIX", "REGEX")
HEADER_MATCH = ("EXACT", "REGEX", "ABSENT", "PRESENT")
FILTERS = (
    ("requestHeader", "request_header"),
    ("mirror", "mirror"),
    ("redirect", "redirect"),
    ("rewrite", "rewrite"),
    ("responseHeader", "response_header"),
)
"""``MeshGatewayRoute.HttpRoute.Filter`` ``filter`` oneof, in declaration order."""
REWRITE_PATHS = (("replaceFull", "replace_full"), ("replacePrefixMatch", "replace_prefix_match"))


def _enum(value: object, names: tuple[str, ...]) -> object:
    """protojson takes an enum by name or number; unset is the first value."""
    if value is None:
        return names[0]
    if is_number(value) and int(value) == value and 0 <= value < len(names):
        return names[int(value)]
    return value


def check(f: Findings, resource: Resource) -> None:
    data = resource.spec
    check_selectors(f, ("selectors",), data.get("selectors"), SOURCES)
    conf = data.get("conf")
    if conf is not None and not isinstance(conf, dict):
        return
    conf = conf or {}
    if not is_present(conf, "tcp") and not is_present(conf, "http"):
        f.add(codes.SETTING_MISSING, ("conf",), EMPTY)
    http = conf.get("http")
    if isinstance(http, dict):
        _http(f, ("conf", "http"), http)


def _http(f: Findings, path: Path, http: Mapping[str, Any]) -> None:
    rules = as_list(http.get("rules"))
    if not rules:
        f.add(codes.SETTING_MISSING, (*path, "rules"), EMPTY)
        return
    for i, rule in enumerate(rules):
        _rule(f, (*path, "rules", i), as_map(rule))


def _rule(f: Findings, path: Path, rule: Mapping[str, Any]) -> None:
    matches = as_list(rule.get("matches"))
    if not matches:
        f.add(codes.SETTING_MISSING, (*path, "matches"), EMPTY)
        return
    has_prefix = False
    for i, match in enumerate(matches):
        match = as_map(match)
        _match(f, (*path, "matches", i), match)
        route_path = match.get("path")
        if isinstance(route_path, dict) and _enum(route_path.get("match"), PATH_MATCH) == "PREFIX":
            has_prefix = True
    all_filters = [as_map(x) for x in as_list(rule.get("filters"))]
    host_rewrite = False
    checked: list[tuple[str, Any]] = []
    for entry in all_filters:
        member = oneof_member(entry, FILTERS) or ("", None)
        kind, value = member
        if (
            kind == "rewrite"
            and isinstance(value, dict)
            and proto_field(value, "hostToBackendHostname", "host_to_backend_hostname")
        ):
            host_rewrite = True
            continue
        checked.append(member)
    has_redirect = False
    for i, member in enumerate(checked):
        if member[0] == "redirect":
            has_redirect = True
        _filter(f, (*path, "filters", i), member, has_prefix, host_rewrite)
    if has_redirect and len(all_filters) != 1:
        f.add(
            codes.SETTINGS_CONFLICT,
            (*path, "filters"),
            "redirects cannot be used with other filters",
        )
        return
    backends = as_list(rule.get("backends"))
    if not backends and not has_redirect:
        f.add(codes.SETTING_MISSING, (*path, "backends"), EMPTY)
    if backends and has_redirect:
        f.add(
            codes.SETTINGS_CONFLICT,
            (*path, "backends"),
            "must be empty when using redirect filters",
        )
    for i, backend in enumerate(backends):
        _backend(f, (*path, "backends", i), backend)


def _match(f: Findings, path: Path, match: Mapping[str, Any]) -> None:
    route_path = match.get("path")
    method = match.get("method")
    headers = as_list(match.get("headers"))
    query = as_list(proto_field(match, "queryParameters", "query_parameters"))
    if route_path is None and method in (None, "NONE", 0) and not headers and not query:
        f.add(codes.SETTING_MISSING, path, EMPTY)
    if isinstance(route_path, dict):
        kind = _enum(route_path.get("match"), PATH_MATCH)
        value = route_path.get("value")
        value = value if isinstance(value, str) else ""
        if kind == "REGEX":
            if value == "":
                f.add(codes.SETTING_MISSING, (*path, "value"), EMPTY)
        elif not (kind == "PREFIX" and value == "/") and not value.startswith("/"):
            f.add(codes.VALUE_NOT_ALLOWED, (*path, "value"), "must be an absolute path")
    for i, header in enumerate(headers):
        header = as_map(header)
        where = (*path, "headers", i)
        if header.get("name") in (None, ""):
            f.add(codes.SETTING_MISSING, (*where, "name"), EMPTY)
        value = header.get("value")
        if _enum(header.get("match"), HEADER_MATCH) in ("ABSENT", "PRESENT"):
            if value not in (None, ""):
                f.add(codes.SETTINGS_CONFLICT, (*where, "value"), "cannot be set")
        elif value in (None, ""):
            f.add(codes.SETTING_MISSING, (*where, "value"), EMPTY)
    for i, parameter in enumerate(query):
        parameter = as_map(parameter)
        where = (*path, "query_parameters", i)
        for field in ("name", "value"):
            if parameter.get(field) in (None, ""):
                f.add(codes.SETTING_MISSING, (*where, field), EMPTY)


def _filter(
    f: Findings, path: Path, member: tuple[str, Any], has_prefix: bool, host_rewrite: bool
) -> None:
    kind, value = member
    if not isinstance(value, dict):
        return
    if kind == "requestHeader":
        _request_header(f, (*path, "request_header"), value, host_rewrite)
    elif kind == "redirect":
        where = (*path, "redirect")
        port = value.get("port")
        port = proto_number(port)
        if port is not None and port > 65535:
            f.add(codes.NUMBER_RANGE, (*where, "port"), "port must be in the range [1, 65535]")
        status = proto_field(value, "statusCode", "status_code")
        status = proto_number(status) or 0
        if not 300 <= status <= 308:
            f.add(codes.NUMBER_RANGE, (*where, "status_code"), "must be in the range [300, 308]")
    elif kind == "mirror":
        where = (*path, "mirror")
        percentage = value.get("percentage")
        if percentage is None:
            f.add(codes.SETTING_MISSING, (*where, "percentage"), EMPTY)
        elif (number := proto_number(percentage)) is not None and not 0.0 <= number <= 100.0:
            f.add(codes.NUMBER_RANGE, (*where, "percentage"), "has to be in [0.0 - 100.0] range")
        _backend(f, (*where, "backend"), value.get("backend"))
    elif kind == "rewrite" and _rewrite_path(value) == "replacePrefixMatch" and not has_prefix:
        f.add(
            codes.SETTINGS_CONFLICT,
            (*path, "rewrite", "replacePrefixMatch"),
            "cannot be used without a match on path prefix",
        )


def _rewrite_path(rewrite: Mapping[str, Any]) -> str:
    member = oneof_member(rewrite, REWRITE_PATHS)
    return member[0] if member is not None else ""


def _request_header(
    f: Findings, path: Path, request: Mapping[str, Any], host_rewrite: bool
) -> None:
    set_, add, remove = (as_list(request.get(k)) for k in ("set", "add", "remove"))
    if not set_ and not add and not remove:
        f.add(codes.SETTING_MISSING, path, EMPTY)
    for section, headers in (("set", set_), ("add", add)):
        for i, header in enumerate(headers):
            header = as_map(header)
            where = (*path, section, i)
            name = header.get("name")
            if name in HOST_HEADERS and host_rewrite:
                f.add(
                    codes.SETTINGS_CONFLICT,
                    where,
                    f"cannot modify '{name}' header, when route has set "
                    "'rewrite.host_to_backend_hostname' option",
                )
            elif name in (None, ""):
                f.add(codes.SETTING_MISSING, (*where, "name"), EMPTY)
            if header.get("value") in (None, ""):
                f.add(codes.SETTING_MISSING, (*where, "value"), EMPTY)
    for i, name in enumerate(remove):
        if name == "":
            f.add(codes.SETTING_MISSING, (*path, "remove", i), EMPTY)


def _backend(f: Findings, path: Path, backend: object) -> None:
    if backend is None:
        f.add(codes.SETTING_MISSING, path, EMPTY)
        return
    if not isinstance(backend, dict):
        return
    destination = backend.get("destination")
    if destination is None or isinstance(destination, dict):
        check_selector(f, path, destination or {}, SOURCES)
