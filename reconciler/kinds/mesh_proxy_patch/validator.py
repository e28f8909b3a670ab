"""MeshProxyPatch (Kuma 2.14 ``meshproxypatch/api/v1alpha1/validator.go``).

The top-level targetRef is the shared opening; this is ``validateDefault``: at least one
modification, exactly one resource per modification, and per operation what must and must
not be set (``match``, ``value``, ``jsonPatches``); ``jsonPatches`` follow Kuma's JSON Patch
block rules (``core/jsonpatch/validators``). Operations outside the enum are the schema's.

A ``value`` is a native Envoy resource in YAML or JSON: here it must parse and be a mapping
of fields, as protojson needs. Kuma also unmarshals it into the Envoy message and runs its
``validate`` rules; rules work on plain data, so that part is the compile step's
(``plugin/``: RC510 at the modification, before anything is published).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import yaml

from reconciler import codes
from reconciler.model import Resource as KumaResource
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map


class Resource(StrEnum):
    """What a modification edits: its field name in ``appendModifications[]``."""

    CLUSTER = "cluster"
    LISTENER = "listener"
    VIRTUAL_HOST = "virtualHost"
    NETWORK_FILTER = "networkFilter"
    HTTP_FILTER = "httpFilter"


FILTER_BEFORE = "must be defined. You need to pick a filter before which this one will be added"
FILTER_AFTER = "must be defined. You need to pick a filter after which this one will be added"
_FILTERS = (Resource.NETWORK_FILTER, Resource.HTTP_FILTER)


def check(f: Findings, resource: KumaResource) -> None:
    conf = resource.spec.get("default")
    if conf is not None and not isinstance(conf, dict):
        return  # the schema reports the type
    path: Path = ("default", "appendModifications")
    modifications = as_map(conf).get("appendModifications")
    if modifications is None or modifications == []:
        f.add(codes.SETTING_MISSING, path, "must not be empty")
    for i, modification in enumerate(as_list(modifications)):
        if isinstance(modification, dict):
            _check_modification(f, (*path, i), modification)


def _check_modification(f: Findings, path: Path, modification: Mapping[str, Any]) -> None:
    present = [r for r in Resource if modification.get(r.value) is not None]
    if len(present) != 1:
        f.add(
            codes.SETTINGS_CONFLICT if present else codes.SETTING_MISSING,
            path,
            "exactly one modification can be defined at a time. "
            f"Currently, {len(present)} modifications are defined",
        )
        return
    kind = present[0]
    mod = modification[kind.value]
    if isinstance(mod, dict):
        _check_operation(f, (*path, kind.value), kind, mod)


def _check_operation(f: Findings, path: Path, kind: Resource, mod: Mapping[str, Any]) -> None:
    operation = mod.get("operation")
    match = mod.get("match")
    value = mod.get("value")
    if operation == "Remove":
        if value is not None:
            f.add(codes.VALUE_NOT_ALLOWED, (*path, "value"), "must not be defined")
    elif operation == "Patch":
        if kind in _FILTERS and as_map(match).get("name") is None:
            f.add(codes.SETTING_MISSING, (*path, "match", "name"), "must be defined")
        _check_patch(f, path, kind, value, mod.get("jsonPatches"))
    elif operation == "Add" and kind not in _FILTERS:
        if kind is Resource.VIRTUAL_HOST:
            if as_map(match).get("name") is not None:
                f.add(codes.VALUE_NOT_ALLOWED, (*path, "match", "name"), "must not be defined")
        elif match is not None:
            f.add(codes.VALUE_NOT_ALLOWED, (*path, "match"), "must not be defined")
        _check_value(f, (*path, "value"), value)
    elif operation in ("AddFirst", "AddLast", "AddBefore", "AddAfter") and kind in _FILTERS:
        if operation in ("AddBefore", "AddAfter") and as_map(match).get("name") is None:
            message = FILTER_BEFORE if operation == "AddBefore" else FILTER_AFTER
            f.add(codes.SETTING_MISSING, (*path, "match", "name"), message)
        _check_value(f, (*path, "value"), value)
    # another operation is reported by the schema's enum


def _check_value(f: Findings, path: Path, value: object) -> None:
    """Kuma ``validateResourceValue``: a whole resource must be given, and parse."""
    if value is None:
        f.add(codes.SETTING_MISSING, path, "must be defined")
    elif isinstance(value, str):
        _parse(f, path, value)


def _parse(f: Findings, path: Path, value: str) -> None:
    error = value_error(value)
    if error is not None:
        f.add(codes.ENVOY_RESOURCE_INVALID, path, f"native Envoy resource is not valid: {error}")


def value_error(value: str) -> str | None:
    """Why ``value`` cannot be a native Envoy resource (Kuma: YAML, else JSON, then protojson
    of an object), or None."""
    try:
        document = yaml.safe_load(value)
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"invalid YAML: {first}"
    if not isinstance(document, dict):
        return "expected a mapping of the resource's fields"
    return None


def _check_patch(f: Findings, path: Path, kind: Resource, value: object, patches: object) -> None:
    has_patches = bool(as_list(patches))
    if value is not None:
        if has_patches:
            f.add(
                codes.SETTINGS_CONFLICT,
                path,
                f"{kind.value} must have only one type defined: value, jsonPatches",
            )
        elif isinstance(value, str):
            _parse(f, (*path, "value"), value)
    elif has_patches:
        for i, patch in enumerate(as_list(patches)):
            if isinstance(patch, dict):
                _check_json_patch(f, (*path, "jsonPatches", i), patch)
    else:
        f.add(
            codes.SETTING_MISSING,
            path,
            f"{kind.value} must have exactly one defined: value, jsonPatches",
        )


def _check_json_patch(f: Findings, path: Path, patch: Mapping[str, Any]) -> None:
    """Kuma ``ValidateJsonPatchBlock`` for one operation (an unknown ``op`` is the schema's)."""
    op = patch.get("op")
    if op in ("move", "copy"):
        if patch.get("from") is None:
            f.add(
                codes.SETTING_MISSING,
                (*path, "from"),
                '"from" must not be empty when "op" is one of ["move", "copy"]',
            )
    elif patch.get("from") is not None:
        f.add(
            codes.VALUE_NOT_ALLOWED,
            (*path, "from"),
            '"from" is allowed only when "op" is one of ["move", "copy"]',
        )
    # a present `value: null` is a value to Kuma (a JSON null), so presence is what counts
    if op in ("add", "replace"):
        if "value" not in patch:
            f.add(
                codes.SETTING_MISSING,
                (*path, "value"),
                '"value" must not be empty when "op" is one of ["add", "replace"]',
            )
    elif "value" in patch:
        f.add(
            codes.VALUE_NOT_ALLOWED,
            (*path, "value"),
            '"value" is allowed only when "op" is one of ["add", "replace"]',
        )
    if patch.get("path") in ("", "/") and op == "remove":
        f.add(codes.VALUE_NOT_ALLOWED, (*path, "path"), "root path cannot be removed")
