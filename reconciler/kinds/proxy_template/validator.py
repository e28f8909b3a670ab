"""ProxyTemplate (Kuma 2.14 ``proxytemplate_validator.go``): selectors, imported profiles,
raw resources and modifications (operations, matches, native Envoy values)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler import codes
from reconciler.kinds.proxy_template import envoy_text
from reconciler.model import Resource
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map
from reconciler.validate.rules.selectors import SOURCES, check_selectors, oneof_member

PROFILES = ("default-proxy", "egress-proxy", "gateway-proxy", "ingress-proxy")
"""The profiles Kuma's control plane registers (``RegisterProfile``), sorted as Kuma lists them."""
EMPTY = "cannot be empty"
RESOURCE_OPERATIONS = ("add", "patch", "remove")
FILTER_OPERATIONS = ("addFirst", "addLast", "addBefore", "addAfter", "patch", "remove")
INVALID = "native Envoy resource is not valid: "


def check(f: Findings, resource: Resource) -> None:
    data = resource.spec
    check_selectors(f, ("selectors",), data.get("selectors"), SOURCES, required=False)
    conf = data.get("conf")
    if conf is not None and not isinstance(conf, dict):
        return
    conf = conf or {}
    _imports(f, as_list(conf.get("imports")))
    _resources(f, as_list(conf.get("resources")))
    for i, modification in enumerate(as_list(conf.get("modifications"))):
        _modification(f, ("conf", "modifications", i), as_map(modification))


def _imports(f: Findings, imports: Sequence[Any]) -> None:
    for i, name in enumerate(imports):
        path = ("conf", "imports", i)
        if name == "":
            f.add(codes.SETTING_MISSING, path, EMPTY)
        elif isinstance(name, str) and name not in PROFILES:
            f.add(
                codes.VALUE_NOT_ALLOWED,
                path,
                f"profile not found. Available profiles: {','.join(PROFILES)}",
            )


def _resources(f: Findings, resources: Sequence[Any]) -> None:
    for i, raw in enumerate(resources):
        raw = as_map(raw)
        path = ("conf", "resources", i)
        for field in ("name", "version"):
            if raw.get(field) in (None, ""):
                f.add(codes.SETTING_MISSING, (*path, field), EMPTY)
        text = raw.get("resource")
        if text in (None, ""):
            f.add(codes.SETTING_MISSING, (*path, "resource"), EMPTY)
        elif isinstance(text, str):
            problem = envoy_text.problem(text, raw=True)
            if problem is not None:
                f.add(codes.ENVOY_RESOURCE_INVALID, (*path, "resource"), INVALID + problem)


def _modification(f: Findings, path: Path, modification: Mapping[str, Any]) -> None:
    # jsonpb keeps the last given member of the `type` oneof (declaration order)
    member = oneof_member(modification, tuple((k, k) for k in envoy_text.OPERATION_KINDS))
    if member is not None and isinstance(member[1], dict):
        kind, body = member
        filters = kind in ("networkFilter", "httpFilter")
        _operation(f, (*path, kind), kind, body, filters=filters)


def _operation(
    f: Findings,
    path: Path,
    kind: str,
    body: Mapping[str, Any],
    *,
    filters: bool,
) -> None:
    operation = body.get("operation")
    match = body.get("match")
    match_name = as_map(match).get("name")
    value = body.get("value")
    text = value if isinstance(value, str) else ""
    if operation == "remove":
        return
    if operation == "patch":
        if filters and match_name in (None, ""):
            f.add(codes.SETTING_MISSING, (*path, "match", "name"), EMPTY)
        _value(f, path, text)
        return
    if filters and operation in ("addFirst", "addLast", "addBefore", "addAfter"):
        if operation in ("addBefore", "addAfter") and match_name in (None, ""):
            where = "before" if operation == "addBefore" else "after"
            f.add(
                codes.SETTING_MISSING,
                (*path, "match", "name"),
                f"cannot be empty. You need to pick a filter {where} which this one will be added",
            )
        _value(f, path, text)
        return
    if not filters and operation == "add":
        if kind == "virtualHost":
            if match_name not in (None, ""):
                f.add(codes.SETTINGS_CONFLICT, (*path, "match", "name"), "cannot be defined")
        elif match is not None:
            f.add(codes.SETTINGS_CONFLICT, (*path, "match"), "cannot be defined")
        _value(f, path, text)
        return
    allowed = FILTER_OPERATIONS if filters else RESOURCE_OPERATIONS
    f.add(
        codes.VALUE_NOT_ALLOWED,
        (*path, "operation"),
        "invalid operation. Available operations: " + ", ".join(f'"{op}"' for op in allowed),
    )


def _value(f: Findings, path: Path, text: str) -> None:
    problem = envoy_text.problem(text, raw=False)
    if problem is not None:
        f.add(codes.ENVOY_RESOURCE_INVALID, (*path, "value"), INVALID + problem)
