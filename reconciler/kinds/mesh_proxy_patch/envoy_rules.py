"""The ``validate.rules`` of Envoy's protos, checked on a parsed message (Go's ``Validate()``).

Kuma validates a MeshProxyPatch ``Add`` value with the protoc-gen-validate code generated
for Envoy's Go protos: every field's ``(validate.rules)`` (string lengths and patterns,
number bounds, defined enum values, durations, required messages, list sizes) and required
oneofs, recursing into set messages but not into ``Any`` payloads. This interprets the same
annotations from the Python descriptors. The first violation is reported, as Go's
``Validate()`` does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import Message
from validate import validate_pb2

_HEADER_NAME = re.compile(r"^:?[0-9a-zA-Z!#$%&'*+\-.^_|~`]+\Z")
_HEADER_VALUE = re.compile(r"^[^\x00-\x08\x0A-\x1F\x7F]*\Z")
_HEADER_LOOSE = re.compile(r"^[^\x00\n\r]*\Z")
_NUMBERS = [
    "float",
    "double",
    "int32",
    "int64",
    "uint32",
    "uint64",
    "sint32",
    "sint64",
    "fixed32",
    "fixed64",
    "sfixed32",
    "sfixed64",
]


def violation(message: Message) -> str | None:
    """The first rule ``message`` breaks, as ``invalid <Message>.<field>: <why>``, or None."""
    descriptor = message.DESCRIPTOR
    if descriptor.GetOptions().Extensions[validate_pb2.disabled]:
        return None
    for oneof in descriptor.oneofs:
        if oneof.GetOptions().Extensions[validate_pb2.required] and not message.WhichOneof(
            oneof.name
        ):
            return f"invalid {descriptor.name}.{oneof.name}: value is required"
    for field in descriptor.fields:
        problem = _field(message, field)
        if problem is not None:
            return problem
    return None


def _field(message: Message, field: FieldDescriptor) -> str | None:
    options = field.GetOptions()
    rules = (
        options.Extensions[validate_pb2.rules] if options.HasExtension(validate_pb2.rules) else None
    )
    where = f"invalid {message.DESCRIPTOR.name}.{field.name}"
    value = getattr(message, field.name)
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        return _map(where, value, field.message_type, rules)
    if field.is_repeated:
        return _repeated(where, list(value), field, rules)
    oneof = field.containing_oneof
    if oneof is not None and message.WhichOneof(oneof.name) != field.name:
        return None  # only the chosen member of a oneof is validated
    if field.message_type is not None and not message.HasField(field.name):
        return f"{where}: value is required" if _required(rules) else None
    return _single(where, value, field, rules)


def _required(rules: Any) -> bool:
    if rules is None:
        return False
    kind = rules.WhichOneof("type")
    typed = kind in ("duration", "any", "timestamp") and getattr(rules, kind).required
    return bool(rules.message.required or typed)


def _single(where: str, value: Any, field: FieldDescriptor, rules: Any) -> str | None:
    sub: Descriptor | None = field.message_type
    kind = rules.WhichOneof("type") if rules is not None else None
    if (
        sub is not None
        and sub.full_name.startswith("google.protobuf.")
        and sub.full_name.endswith("Value")
    ):
        value = getattr(value, "value", value)  # wrappers carry their scalar's rules
        sub = None
    if kind is not None:
        problem = _CHECKS.get(kind, _no_check)(getattr(rules, kind), value, field)
        if problem is not None:
            return f"{where}: {problem}"
    if sub is not None and not sub.full_name.startswith("google.protobuf."):
        if rules is not None and rules.message.skip:
            return None
        nested = violation(value)
        return (
            None
            if nested is None
            else f"{where}: embedded message failed validation | caused by: {nested}"
        )
    return None


def _repeated(where: str, items: list[Any], field: FieldDescriptor, rules: Any) -> str | None:
    if rules is not None and rules.WhichOneof("type") == "repeated":
        r = rules.repeated
        if r.HasField("min_items") and len(items) < r.min_items:
            return f"{where}: value must contain at least {r.min_items} item(s)"
        if r.HasField("max_items") and len(items) > r.max_items:
            return f"{where}: value must contain no more than {r.max_items} item(s)"
        item_rules = r.items if r.HasField("items") else None
    else:
        item_rules = None
    for i, item in enumerate(items):
        problem = _single(f"{where}[{i}]", item, field, item_rules)
        if problem is not None:
            return problem
    return None


def _map(where: str, value: Any, entry: Descriptor, rules: Any) -> str | None:
    if rules is not None and rules.WhichOneof("type") == "map":
        r = rules.map
        if r.HasField("min_pairs") and len(value) < r.min_pairs:
            return f"{where}: value must contain at least {r.min_pairs} pair(s)"
        if r.HasField("max_pairs") and len(value) > r.max_pairs:
            return f"{where}: value must contain no more than {r.max_pairs} pair(s)"
    item = entry.fields_by_name["value"]
    if item.message_type is None or item.message_type.full_name.startswith("google.protobuf."):
        return None
    for key in sorted(value):
        nested = violation(value[key])
        if nested is not None:
            return f"{where}[{key}]: embedded message failed validation | caused by: {nested}"
    return None


def _number(r: Any, value: Any, _: FieldDescriptor) -> str | None:
    if r.HasField("const") and value != r.const:
        return f"value must equal {r.const}"
    if r.HasField("lt") and not value < r.lt:
        return f"value must be less than {r.lt}"
    if r.HasField("lte") and not value <= r.lte:
        return f"value must be less than or equal to {r.lte}"
    if r.HasField("gt") and not value > r.gt:
        return f"value must be greater than {r.gt}"
    if r.HasField("gte") and not value >= r.gte:
        return f"value must be greater than or equal to {r.gte}"
    allowed = getattr(r, "in")
    if allowed and value not in allowed:
        return f"value must be in list {list(allowed)}"
    if r.not_in and value in r.not_in:
        return f"value must not be in list {list(r.not_in)}"
    return None


def _string(r: Any, value: Any, _: FieldDescriptor) -> str | None:
    if not isinstance(value, str) or (r.ignore_empty and value == ""):
        return None
    size = len(value)
    if r.HasField("min_len") and size < r.min_len:
        return f"value length must be at least {r.min_len} runes"
    if r.HasField("max_len") and size > r.max_len:
        return f"value length must be at most {r.max_len} runes"
    if r.HasField("len") and size != r.len:
        return f"value length must be {r.len} runes"
    if r.HasField("min_bytes") and len(value.encode()) < r.min_bytes:
        return f"value length must be at least {r.min_bytes} bytes"
    if r.HasField("max_bytes") and len(value.encode()) > r.max_bytes:
        return f"value length must be at most {r.max_bytes} bytes"
    if r.HasField("prefix") and not value.startswith(r.prefix):
        return f"value does not have prefix {r.prefix!r}"
    if r.HasField("pattern") and not _matches(r.pattern, value):
        return f"value does not match regex pattern {r.pattern!r}"
    allowed = getattr(r, "in")
    if allowed and value not in allowed:
        return f"value must be in list {list(allowed)}"
    if r.WhichOneof("well_known") == "well_known_regex":
        strict = not r.HasField("strict") or r.strict
        if r.well_known_regex == validate_pb2.HTTP_HEADER_NAME and strict:
            pattern = _HEADER_NAME
        elif r.well_known_regex == validate_pb2.HTTP_HEADER_VALUE and strict:
            pattern = _HEADER_VALUE
        else:
            pattern = _HEADER_LOOSE
        if value and pattern.match(value) is None:
            return "value does not match the header name or value syntax"
    return None


def _matches(pattern: str, value: str) -> bool:
    try:
        return re.search(pattern, value) is not None
    except re.error:
        return True  # an RE2-only pattern: leave the value to Envoy


def _enum(r: Any, value: Any, field: FieldDescriptor) -> str | None:
    if (
        r.defined_only
        and field.enum_type is not None
        and value not in field.enum_type.values_by_number
    ):
        return "value must be one of the defined enum values"
    if r.HasField("const") and value != r.const:
        return f"value must equal {r.const}"
    return None


def _seconds(duration: Duration) -> float:
    seconds: int = duration.seconds
    nanos: int = duration.nanos
    return seconds + nanos / 1e9


def _duration(r: Any, value: Any, _: FieldDescriptor) -> str | None:
    if not isinstance(value, Duration):
        return None
    seconds = _seconds(value)
    if r.HasField("lt") and not seconds < _seconds(r.lt):
        return f"value must be less than {_seconds(r.lt)}s"
    if r.HasField("lte") and not seconds <= _seconds(r.lte):
        return f"value must be less than or equal to {_seconds(r.lte)}s"
    if r.HasField("gt") and not seconds > _seconds(r.gt):
        return f"value must be greater than {_seconds(r.gt)}s"
    if r.HasField("gte") and not seconds >= _seconds(r.gte):
        return f"value must be greater than or equal to {_seconds(r.gte)}s"
    return None


def _no_check(r: Any, value: Any, field: FieldDescriptor) -> str | None:
    return None


_CHECKS: dict[str, Callable[[Any, Any, FieldDescriptor], str | None]] = {
    **dict.fromkeys(_NUMBERS, _number),
    "string": _string,
    "enum": _enum,
    "duration": _duration,
}
