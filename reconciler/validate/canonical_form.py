"""The canonical form of the protobuf-backed flat kinds, read as Kuma reads them.

Kuma 2.14 reads Mesh, Dataplane, MeshGateway, ZoneIngress and ZoneEgress with
``github.com/golang/protobuf/jsonpb`` (``util/proto.FromJSON``), then validates the message.
jsonpb takes a field under its JSON name or its protobuf name (``transparent_proxying``), a
number in quotes (``port: "8080"``) and an enum value by number (``protocol: 4``).
:func:`canonical` gives the document jsonpb's reading: JSON names only (a field given under
both names keeps the JSON name's value; the other is ignored unread, as jsonpb does), numbers
as numbers, enum values by name. The schema, the rules and the compiler then see one form,
so Kuma's ranges apply to quoted numbers and no later stage knows about aliases.

What to rename and convert comes from the kind's schema: ``x-protobuf-name`` on a property
whose protobuf name differs from its JSON name, ``integer``/``number`` types, and enums (a
string ``enum`` branch; ``x-protobuf-numbers`` gives their numbers when not 0, 1, 2...).
Positions stay right: the locator finds a JSON-named field under its protobuf name.
A document with nothing to convert is returned as is (same object).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from reconciler.kinds import CATALOG, Category
from reconciler.model import Resource
from reconciler.validate.schema_files import load_schema

PROTOBUF_KINDS = frozenset(
    name for name, spec in CATALOG.items() if spec.flat and spec.category != Category.LEGACY
)
"""Flat kinds Kuma reads with jsonpb and validates with its own Go validators (the legacy
kinds keep both spellings in their schemas and rules: ``rules/selectors.py``)."""

META = frozenset({"type", "name", "mesh", "labels", "kri", "creationTime", "modificationTime"})
"""Resource metadata: Kuma reads it with encoding/json, not jsonpb (no aliases)."""

_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)")
_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


@dataclass(slots=True)
class _Node:
    """What to do at one place of a document (built once per kind from its schema)."""

    fields: dict[str, _Node] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    """protobuf name -> JSON name"""
    items: _Node | None = None
    values: _Node | None = None
    number: str = ""
    """``integer`` or ``number``: a quoted number is read as a number."""
    enum: dict[int, str] = field(default_factory=dict)
    """enum number -> name"""
    active: bool = False
    """Something below may need converting (inactive subtrees are not walked)."""
    watched: frozenset[str] | None = frozenset()
    """Keys of a message worth a look (active fields, protobuf names); None: every key."""


def _types(node: Mapping[str, Any]) -> set[str]:
    declared = node.get("type")
    found = {declared} if isinstance(declared, str) else set(declared or ())
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in node.get(key, ()):
            if isinstance(branch, dict):
                found |= _types(branch)
    return found


def _properties(node: Mapping[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = dict(node.get("properties", {}))
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in node.get(key, ()):
            if isinstance(branch, dict):
                props.update(_properties(branch))
    return props


def _enum_names(node: Mapping[str, Any]) -> list[str]:
    for branch in node.get("anyOf", ()):
        if isinstance(branch, dict) and isinstance(branch.get("enum"), list):
            return [n for n in branch["enum"] if isinstance(n, str)]
    return []


def _build(schema: Mapping[str, Any]) -> _Node:
    node = _Node()
    types = _types(schema)
    names = _enum_names(schema)
    if names:
        numbers = schema.get("x-protobuf-numbers") or list(range(len(names)))
        node.enum = dict(zip(numbers, names, strict=True))
    elif "integer" in types:
        node.number = "integer"
    elif "number" in types:
        node.number = "number"
    for name, sub in _properties(schema).items():
        if isinstance(sub, dict):
            node.fields[name] = _build(sub)
            proto = sub.get("x-protobuf-name")
            if isinstance(proto, str):
                node.aliases[proto] = name
    if isinstance(schema.get("items"), dict):
        node.items = _build(schema["items"])
    if isinstance(schema.get("additionalProperties"), dict):
        node.values = _build(schema["additionalProperties"])
    below = [*node.fields.values(), node.items, node.values]
    node.active = bool(
        node.aliases or node.number or node.enum or any(n.active for n in below if n)
    )
    _watch(node)
    return node


def _watch(node: _Node) -> None:
    if node.values is not None and node.values.active:
        node.watched = None
    else:
        node.watched = frozenset([*(k for k, n in node.fields.items() if n.active), *node.aliases])


@cache
def _plan(kind: str) -> _Node:
    plan = _build(load_schema(kind))
    for name in META:
        plan.fields.pop(name, None)
    plan.active = any(n.active for n in plan.fields.values()) or bool(plan.aliases)
    _watch(plan)
    return plan


def canonical(resource: Resource) -> Resource:
    """``resource`` as jsonpb reads it (the same object when nothing differs)."""
    if resource.kind not in PROTOBUF_KINDS:
        return resource
    data = canonical_data(resource.kind, resource.data)
    return resource if data is resource.data else replace(resource, data=data)


def canonical_data(kind: str, data: Mapping[str, Any]) -> Mapping[str, Any]:
    """The document of a :data:`PROTOBUF_KINDS` kind as jsonpb reads it (``data`` itself
    when nothing differs)."""
    converted: Mapping[str, Any] = _convert(data, _plan(kind))
    return converted


def _convert(value: Any, node: _Node) -> Any:
    kind = type(value)
    if kind is dict:
        return _message(value, node)
    if kind is list:
        item = node.items
        if item is None or not item.active:
            return value
        out = None
        for index, sub in enumerate(value):
            new = _convert(sub, item)
            if new is not sub:
                if out is None:
                    out = list(value)
                out[index] = new
        return value if out is None else out
    if kind is str and node.number:
        pattern = _INTEGER if node.number == "integer" else _NUMBER
        if pattern.fullmatch(value):
            return int(value) if _INTEGER.fullmatch(value) else float(value)
        return value
    if kind is int and node.enum:
        return node.enum.get(value, value)
    return value


def _message(value: dict[str, Any], node: _Node) -> dict[str, Any]:
    watched = node.watched
    if watched is None:  # a map of active values: look at every entry
        keys: Any = value
    else:
        keys = watched.intersection(value)
        if not keys:
            return value
    changes: dict[str, Any] = {}
    renamed = False
    for key in keys:
        sub = value[key]
        child = node.fields.get(key)
        if child is None:
            target = node.aliases.get(key)
            if target is not None:
                renamed = True
                continue
            child = node.values
        if child is None:
            continue
        kind = type(sub)
        if kind is int and not child.enum:
            continue  # the common case: a number given as a number
        new = _convert(sub, child)
        if new is not sub:
            changes[key] = new
    if renamed:
        return _renamed(value, node, changes)
    if not changes:
        return value
    return {key: changes.get(key, sub) for key, sub in value.items()}


def _renamed(value: dict[str, Any], node: _Node, changes: dict[str, Any]) -> dict[str, Any]:
    """``value`` with protobuf names turned into JSON names, in the given order."""
    out: dict[str, Any] = {}
    for key, sub in value.items():
        target = node.aliases.get(key) if key not in node.fields else None
        if target is None:
            out[key] = changes.get(key, sub)
        elif target not in value:  # else jsonpb reads the JSON name's value, not this one
            out[target] = _convert(sub, node.fields[target]) if node.fields[target].active else sub
    return out
