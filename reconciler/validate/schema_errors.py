"""Turn one ``jsonschema`` error into short, human RC2xx findings: (code, field path, message).

Messages name the offending value briefly (never the repr of a big mapping), list allowed
values, and suggest the closest known field for a typo. Alternatives (``anyOf``/``oneOf``)
become one message, or the errors of the one branch the value was clearly meant for.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from reconciler import codes
from reconciler.model import FieldPath
from reconciler.suggest import suggest

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

Finding = tuple[str, FieldPath, str]

PROTO_DURATION_PATTERN = r"^-?[0-9]+(\.[0-9]{1,9})?s$"
GO_DURATION_PATTERN = r"^[-+]?(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$"
"""A Go duration (``time.ParseDuration``), as the legacy kinds take them."""
INTEGER_STRING_PATTERNS = (r"^[0-9]+$", r"^-?[0-9]+$")
"""Integers written as strings, which protobuf JSON accepts (legacy kinds)."""
NUMBER_STRING_PATTERN = r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$"
"""Floating-point numbers written as strings, which Kuma's jsonpb accepts (legacy kinds)."""
_DISCRIMINATORS = ("type", "kind")
_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean (true or false)",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}
_MAX_LISTED = 12


def diagnose(error: ValidationError) -> list[Finding]:
    path: FieldPath = tuple(error.absolute_path)
    keyword = str(error.validator)
    value: Any = error.validator_value
    instance: Any = error.instance
    match keyword:
        case "additionalProperties" | "unevaluatedProperties":
            return list(_unknown_fields(error, path))
        case "required":
            return _required(path, value, instance)
        case "type":
            return [
                (codes.SCHEMA_TYPE, path, f"expected {_types(value)}, got {describe(instance)}")
            ]
        case "enum" if value == []:
            # a field excluded by another one (a protobuf oneof): the node says why
            reason = error.schema.get("description") if isinstance(error.schema, dict) else None
            return [(codes.SCHEMA_ONE_OF, path, str(reason or "this field cannot be set here"))]
        case "enum" | "const":
            allowed = value if keyword == "enum" else [value]
            return [(codes.SCHEMA_ENUM, path, _not_allowed(instance, allowed))]
        case "pattern":
            return [(codes.SCHEMA_PATTERN, path, _pattern(instance, str(value)))]
        case "format":
            return [(codes.SCHEMA_PATTERN, path, f"{describe(instance)} is not a valid {value}")]
        case "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" | "multipleOf":
            return [(codes.SCHEMA_RANGE, path, _range(keyword, value, instance))]
        case "minLength" | "maxLength" | "minItems" | "maxItems":
            return [(codes.SCHEMA_LENGTH, path, _length(keyword, value))]
        case "minProperties" | "maxProperties":
            return [(codes.SCHEMA_LENGTH, path, _length(keyword, value))]
        case "anyOf" | "oneOf":
            return _alternatives(error, path)
        case _:
            return [(codes.SCHEMA_OTHER, path, f"value violates the schema rule '{keyword}'")]


def describe(value: Any) -> str:
    """A short description of a value: ``'text'``, ``5``, ``true``, ``a mapping``, ``a list``."""
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return repr(text)
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _listing(items: Sequence[Any]) -> str:
    shown = [str(i) for i in items[:_MAX_LISTED]]
    more = len(items) - len(shown)
    return ", ".join(shown) + (f" (and {more} more)" if more > 0 else "")


def _types(value: Any) -> str:
    names = [value] if isinstance(value, str) else list(value)
    if len(names) > 1 and "null" in names:
        names.remove("null")  # `null` there means "not set" (protobuf JSON), not a value to offer
    return " or ".join(_TYPE_NAMES.get(n, n) for n in names)


def _unknown_fields(error: ValidationError, path: FieldPath) -> Iterator[Finding]:
    instance = error.instance
    if not isinstance(instance, dict):
        return
    schema: Any = error.schema
    allowed = sorted(schema.get("properties", {}) if isinstance(schema, dict) else {})
    for key in instance:
        if key in allowed:
            continue
        message = f"unknown field {key!r}"
        hit = suggest(str(key), allowed)
        close = [hit] if hit else []
        if close:
            message += f"; did you mean {close[0]!r}?"
        elif allowed:
            message += f"; allowed here: {_listing(allowed)}"
        else:
            message += "; no fields are allowed here"
        yield (codes.SCHEMA_UNKNOWN_FIELD, (*path, key), message)


def _required(path: FieldPath, value: Sequence[str], instance: Any) -> list[Finding]:
    # jsonschema yields one error per missing name, each carrying the whole list: report
    # every missing name here and let the caller drop the duplicates.
    missing = [name for name in value if isinstance(instance, dict) and name not in instance]
    return [
        (codes.SCHEMA_REQUIRED, (*path, name), f"required field {name!r} is missing")
        for name in missing
    ]


def _not_allowed(instance: Any, allowed: Sequence[Any]) -> str:
    shown = [a if isinstance(a, str) else json.dumps(a) for a in allowed]
    message = f"value {describe(instance)} is not supported; allowed: {_listing(shown)}"
    if isinstance(instance, str):
        strings = [a for a in allowed if isinstance(a, str)]
        close = suggest(instance, strings)
        if close and close != instance:
            message += f" (did you mean {close!r}?)"
    return message


def _pattern(instance: Any, pattern: str) -> str:
    if pattern == PROTO_DURATION_PATTERN:
        return f"{describe(instance)} is not a duration in seconds such as '10s' or '0.5s'"
    if pattern in INTEGER_STRING_PATTERNS:
        return f"{describe(instance)} is not an integer"
    if pattern == NUMBER_STRING_PATTERN:
        return f"{describe(instance)} is not a number"
    if pattern == GO_DURATION_PATTERN:
        return f"{describe(instance)} is not a duration such as '300ms', '10s' or '1m30s'"
    return f"{describe(instance)} does not match the pattern {pattern}"


def _range(keyword: str, limit: Any, instance: Any) -> str:
    words = {
        "minimum": f"must be at least {limit}",
        "maximum": f"must be at most {limit}",
        "exclusiveMinimum": f"must be greater than {limit}",
        "exclusiveMaximum": f"must be less than {limit}",
        "multipleOf": f"must be a multiple of {limit}",
    }
    return f"value {describe(instance)} is out of range: {words[keyword]}"


def _length(keyword: str, limit: int) -> str:
    unit = {"Length": "character", "Items": "item", "Properties": "field"}[keyword[3:]]
    plural = "" if limit == 1 else "s"
    bound = "at least" if keyword.startswith("min") else "at most"
    return f"must have {bound} {limit} {unit}{plural}"


def _alternatives(error: ValidationError, path: FieldPath) -> list[Finding]:
    """One message for a failed anyOf/oneOf, or the errors of the branch meant."""
    raw: Any = error.validator_value
    branches: list[Any] = list(raw)
    instance = error.instance
    keyword = str(error.validator)
    if branches and all(_is_one_required(b) for b in branches):
        names = [str(b["required"][0]) for b in branches]
        present = [n for n in names if isinstance(instance, dict) and n in instance]
        if len(present) > 1:
            return [
                (
                    codes.SCHEMA_ONE_OF,
                    path,
                    f"set only one of {_listing(names)}; found {_listing(present)}",
                )
            ]
        exactly = "exactly " if keyword == "oneOf" else ""
        return [(codes.SCHEMA_ONE_OF, path, f"set {exactly}one of {_listing(names)}")]
    meant = _meant_branch(branches, instance)
    if meant is not None and error.context:
        sub = [
            e
            for e in error.context
            if e.relative_schema_path and e.relative_schema_path[0] == meant
        ]
        if sub:
            return [f for e in sub for f in diagnose(e)]
    if keyword == "oneOf" and not error.context:
        return [
            (
                codes.SCHEMA_ONE_OF,
                path,
                "value matches more than one alternative; make it match exactly one",
            )
        ]
    kinds = _branch_types(branches)
    if kinds and not any(_has_type(instance, k) for k in kinds):
        return [(codes.SCHEMA_TYPE, path, f"expected {_types(kinds)}, got {describe(instance)}")]
    return [
        (
            codes.SCHEMA_ONE_OF,
            path,
            f"{describe(instance)} matches none of the allowed alternatives",
        )
    ]


def _is_one_required(branch: Any) -> bool:
    """A branch that only says "this one field is set" (a protobuf oneof)."""
    if not isinstance(branch, dict) or set(branch) != {"required"}:
        return False
    required = branch["required"]
    return isinstance(required, list) and len(required) == 1


def _meant_branch(branches: Sequence[Any], instance: Any) -> int | None:
    """The branch whose discriminator (``type``/``kind``) or JSON type the value matches."""
    if isinstance(instance, dict):
        for field in _DISCRIMINATORS:
            if field not in instance:
                continue
            for index, branch in enumerate(branches):
                prop = (
                    branch.get("properties", {}).get(field, {}) if isinstance(branch, dict) else {}
                )
                if prop.get("const") == instance[field] or instance[field] in prop.get("enum", ()):
                    return index
    matching = [
        index
        for index, branch in enumerate(branches)
        if isinstance(branch, dict) and "type" in branch and _has_type(instance, branch["type"])
    ]
    return matching[0] if len(matching) == 1 else None


def _branch_types(branches: Iterable[Any]) -> list[str]:
    kinds: list[str] = []
    for branch in branches:
        if not isinstance(branch, dict) or "type" not in branch:
            return []
        kinds.extend([branch["type"]] if isinstance(branch["type"], str) else branch["type"])
    return kinds


def _has_type(instance: Any, kind: Any) -> bool:
    names = [kind] if isinstance(kind, str) else list(kind)
    for name in names:
        if name == "string" and isinstance(instance, str):
            return True
        if (
            name in ("integer", "number")
            and isinstance(instance, int | float)
            and not isinstance(instance, bool)
        ):
            return name == "number" or isinstance(instance, int) or float(instance).is_integer()
        if name == "boolean" and isinstance(instance, bool):
            return True
        if name == "object" and isinstance(instance, dict):
            return True
        if name == "array" and isinstance(instance, list):
            return True
        if name == "null" and instance is None:
            return True
    return False
