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
    if not all(v is None or isinstance(v, str | int | float) for v in allowed):
        raise UnsupportedSchema("enum of non-scalar values")
    numbers = [v for v in allowed if _is_number(v)]
    strings = frozenset(v for v in allowed if isinstance(v, str))
    bools = [v for v in allowed if isinstance(v, bool)]
    null = None in allowed

    def check(v: Any) -> bool:
        if v is None:
            return null
        if isinstance(v, bool):
            return any(v is b for b in bools)
        if _is_number(v):
            return any(v == n for n in numbers)
        return isinstance(v, str) and v in strings

    return check


def compile_predicate(schema: Mapping[str, Any] | bool) -> Predicate:
    """A function that returns False for every instance ``jsonschema`` would reject."""
    if schema is True:
        return _always
    if schema is False:
        return lambda v: False
    unknown = [
        k
        for k in schema
        if k not in _ANNOTATIONS
        and k not in _KEYWORDS
        and k not in _PAIRED
        and k != "properties"
        and not k.startswith(
            "x-"
        )  # an extension annotation (validate/canonical_form.py reads them)
    ]
    if unknown:
        raise UnsupportedSchema(", ".join(unknown))
    if "properties" in schema:
        return _object(schema)
    checks = [_KEYWORDS[k](v, schema) for k, v in schema.items() if k in _KEYWORDS]
    return _all_of(checks)


def _always(_: Any) -> bool:
    return True


def _all_of(checks: list[Predicate]) -> Predicate:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda v: first(v) and second(v)

    def check(v: Any) -> bool:
        for c in checks:  # noqa: SIM110 (a loop allocates no generator on this hot path)
            if not c(v):
                return False
        return True

    return check


_OBJECT_KEYWORDS = frozenset({"type", "properties", "additionalProperties", "required"})


def _object(schema: Mapping[str, Any]) -> Predicate:
    """One function for the common object node: type, properties, closed or not, required."""
    type_ = schema.get("type")
    must_be_object = type_ == "object"
    if type_ is not None and not must_be_object:
        rest_type: Predicate | None = _type(type_, schema)
    else:
        rest_type = None
    subs = {name: compile_predicate(sub) for name, sub in schema["properties"].items()}
    extra = schema.get("additionalProperties", True)
    closed = extra is False
    extra_check = None if isinstance(extra, bool) else compile_predicate(extra)
    required = tuple(schema.get("required", ()))
    others = _all_of(
        [
            _KEYWORDS[k](v, schema)
            for k, v in schema.items()
            if k in _KEYWORDS and k not in _OBJECT_KEYWORDS
        ]
    )
    if rest_type is not None:
        others = _all_of([rest_type, others])

    def check(v: Any) -> bool:
        if not isinstance(v, dict):
            return not must_be_object and others(v)
        for name in required:
            if name not in v:
                return False
        for key, item in v.items():
            sub = subs.get(key)
            if sub is None:
                if closed or (extra_check is not None and not extra_check(item)):
                    return False
            elif not sub(item):
                return False
        return others(v)

    return check


def _type(value: Any, _: Mapping[str, Any]) -> Predicate:
    names = [value] if isinstance(value, str) else list(value)
    if names == ["string"]:
        return lambda v: isinstance(v, str)
    tests = [_TYPE_CHECKS[n] for n in names]
    if len(tests) == 1:
        return tests[0]

    def check(v: Any) -> bool:
        for test in tests:  # noqa: SIM110 (a loop allocates no generator on this hot path)
            if test(v):
                return True
        return False

    return check


def _additional(value: Any, schema: Mapping[str, Any]) -> Predicate:
    if "properties" in schema:
        return _always  # handled by _object
    if value is True:
        return lambda v: True
    if value is False:
        return lambda v: not isinstance(v, dict) or not v
    sub = compile_predicate(value)

    def check(v: Any) -> bool:
        if isinstance(v, dict):
            for item in v.values():
                if not sub(item):
                    return False
        return True

    return check


def _required(value: list[str], _: Mapping[str, Any]) -> Predicate:
    names = tuple(value)

    def check(v: Any) -> bool:
        if isinstance(v, dict):
            for name in names:
                if name not in v:
                    return False
        return True

    return check


def _items(value: Any, _: Mapping[str, Any]) -> Predicate:
    sub = compile_predicate(value)

    def check(v: Any) -> bool:
        if isinstance(v, list):
            for item in v:
                if not sub(item):
                    return False
        return True

    return check


def _combinator(kind: str) -> Callable[[list[Any], Mapping[str, Any]], Predicate]:
    def build(value: list[Any], _: Mapping[str, Any]) -> Predicate:
        subs = [compile_predicate(s) for s in value]
        if kind == "allOf":
            return _all_of(subs)

        def check(v: Any) -> bool:
            hits = 0
            for sub in subs:
                if sub(v):
                    if kind == "anyOf":
                        return True
                    hits += 1
            return hits == 1

        return check

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


_PAIRED = frozenset({"then", "else"})
"""Compiled together with ``if``."""

_KEYWORDS: dict[str, Callable[[Any, Mapping[str, Any]], Predicate]] = {
    "type": _type,
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
