"""Compile a JSON Schema into a fast yes/no predicate (the clean-run fast path).

``jsonschema`` explains errors well but costs a few hundred microseconds per resource, which
dominates a cold run over thousands of files. Almost every resource is valid, so
:mod:`reconciler.validate.schema` first asks this predicate and runs ``jsonschema`` only when
it says no. The contract is one-sided: the predicate may reject what ``jsonschema`` accepts
(that only costs time), but must never accept what ``jsonschema`` rejects.

Only the keywords our schemas use are supported; any other keyword raises
:class:`UnsupportedSchema` at compile time and the caller falls back to ``jsonschema`` alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sized
from datetime import datetime
from typing import Any

Predicate = Callable[[Any], bool]

_ANNOTATIONS = frozenset(
    {"$schema", "$id", "title", "description", "default", "contentEncoding", "examples"}
)


class UnsupportedSchema(Exception):
    """The schema uses a keyword the predicate compiler does not implement."""


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_TYPE_CHECKS: dict[str, Predicate] = {
    "string": lambda v: isinstance(v, str),
    "integer": _is_integer,
    "number": _is_number,
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "null": lambda v: v is None,
}


def is_date_time(value: str) -> bool:
    """RFC 3339 date-time (as Kuma exports ``creationTime``); shared with the format checker."""
    if len(value) < 20 or value[10] not in "Tt":
        return False
    try:
        datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return False
    return value[-1] in "Zz" or value[-6] in "+-"


_FORMATS: dict[str, Predicate] = {"date-time": is_date_time}


def _scalar_in(allowed: list[Any]) -> Predicate:
    if all(isinstance(v, str) for v in allowed):
        strings = frozenset(allowed)
        return lambda v: isinstance(v, str) and v in strings
    if not all(isinstance(v, str | int | float) for v in allowed):
        raise UnsupportedSchema("enum of non-scalar values")
    numbers = [v for v in allowed if _is_number(v)]
    strings = frozenset(v for v in allowed if isinstance(v, str))
    bools = [v for v in allowed if isinstance(v, bool)]

    def check(v: Any) -> bool:
        if isinstance(v, bool):
            return any(v is b for b in bools)
        if _is_number(v):
            return any(v == n for n in numbers)
        return isinstance(v, str) and v in strings

    return check


def compile_predicate(schema: Mapping[str, Any] | bool) -> Predicate:
    """A function that returns False for every instance ``jsonschema`` would reject."""
    if schema is True:
        return lambda v: True
    if schema is False:
        return lambda v: False
    checks: list[Predicate] = []
    for key, value in schema.items():
        if key in _ANNOTATIONS:
            continue
        builder = _KEYWORDS.get(key)
        if builder is None:
            if key in ("then", "else"):
                continue  # compiled together with "if"
            raise UnsupportedSchema(key)
        checks.append(builder(value, schema))
    if not checks:
        return lambda v: True
    if len(checks) == 1:
        return checks[0]
    return lambda v: all(check(v) for check in checks)


def _type(value: Any, _: Mapping[str, Any]) -> Predicate:
    names = [value] if isinstance(value, str) else list(value)
    tests = [_TYPE_CHECKS[n] for n in names]
    if len(tests) == 1:
        return tests[0]
    return lambda v: any(t(v) for t in tests)


def _properties(value: Mapping[str, Any], schema: Mapping[str, Any]) -> Predicate:
    subs = {name: compile_predicate(sub) for name, sub in value.items()}
    extra = schema.get("additionalProperties", True)
    closed = extra is False
    extra_check = None if isinstance(extra, bool) else compile_predicate(extra)

    def check(v: Any) -> bool:
        if not isinstance(v, dict):
            return True
        for key, item in v.items():
            sub = subs.get(key)
            if sub is None:
                if closed or (extra_check is not None and not extra_check(item)):
                    return False
            elif not sub(item):
                return False
        return True

    return check


def _additional(value: Any, schema: Mapping[str, Any]) -> Predicate:
    if "properties" in schema:
        return lambda v: True  # handled by _properties
    if value is True:
        return lambda v: True
    if value is False:
        return lambda v: not isinstance(v, dict) or not v
    sub = compile_predicate(value)
    return lambda v: not isinstance(v, dict) or all(sub(item) for item in v.values())


def _required(value: list[str], _: Mapping[str, Any]) -> Predicate:
    names = tuple(value)
    return lambda v: not isinstance(v, dict) or all(n in v for n in names)


def _items(value: Any, _: Mapping[str, Any]) -> Predicate:
    sub = compile_predicate(value)
    return lambda v: not isinstance(v, list) or all(sub(item) for item in v)


def _combinator(kind: str) -> Callable[[list[Any], Mapping[str, Any]], Predicate]:
    def build(value: list[Any], _: Mapping[str, Any]) -> Predicate:
        subs = [compile_predicate(s) for s in value]
        if kind == "allOf":
            return lambda v: all(s(v) for s in subs)
        if kind == "anyOf":
            return lambda v: any(s(v) for s in subs)
        return lambda v: sum(1 for s in subs if s(v)) == 1

    return build


def _if(value: Any, schema: Mapping[str, Any]) -> Predicate:
    cond = compile_predicate(value)
    then = compile_predicate(schema.get("then", True))
    other = compile_predicate(schema.get("else", True))
    return lambda v: then(v) if cond(v) else other(v)


def _enum(value: list[Any], _: Mapping[str, Any]) -> Predicate:
    return _scalar_in(value)


def _const(value: Any, _: Mapping[str, Any]) -> Predicate:
    return _scalar_in([value])


def _pattern(value: str, _: Mapping[str, Any]) -> Predicate:
    search = re.compile(value).search
    return lambda v: not isinstance(v, str) or search(v) is not None


def _format(value: str, _: Mapping[str, Any]) -> Predicate:
    test = _FORMATS.get(value)
    if test is None:
        raise UnsupportedSchema(f"format {value}")
    return lambda v: not isinstance(v, str) or test(v)


def _bound(op: str) -> Callable[[float, Mapping[str, Any]], Predicate]:
    def build(limit: float, _: Mapping[str, Any]) -> Predicate:
        if op == "minimum":
            return lambda v: not _is_number(v) or v >= limit
        if op == "maximum":
            return lambda v: not _is_number(v) or v <= limit
        if op == "exclusiveMinimum":
            return lambda v: not _is_number(v) or v > limit
        return lambda v: not _is_number(v) or v < limit

    return build


def _size(kind: type[Sized], at_least: bool) -> Callable[[int, Mapping[str, Any]], Predicate]:
    def build(limit: int, _: Mapping[str, Any]) -> Predicate:
        if at_least:
            return lambda v: not isinstance(v, kind) or len(v) >= limit
        return lambda v: not isinstance(v, kind) or len(v) <= limit

    return build


_KEYWORDS: dict[str, Callable[[Any, Mapping[str, Any]], Predicate]] = {
    "type": _type,
    "properties": _properties,
    "additionalProperties": _additional,
    "required": _required,
    "items": _items,
    "allOf": _combinator("allOf"),
    "anyOf": _combinator("anyOf"),
    "oneOf": _combinator("oneOf"),
    "if": _if,
    "enum": _enum,
    "const": _const,
    "pattern": _pattern,
    "format": _format,
    "minimum": _bound("minimum"),
    "maximum": _bound("maximum"),
    "exclusiveMinimum": _bound("exclusiveMinimum"),
    "exclusiveMaximum": _bound("exclusiveMaximum"),
    "minLength": _size(str, True),
    "maxLength": _size(str, False),
    "minItems": _size(list, True),
    "maxItems": _size(list, False),
    "minProperties": _size(dict, True),
    "maxProperties": _size(dict, False),
}
