"""Envoy's proto validation rules (protoc-gen-validate annotations), checked in Python.

Envoy validates every xDS resource against the ``(validate.rules)`` annotations of its protos
and rejects (NACKs) a resource that breaks one. The annotations ship with ``xds-protos``;
this module reads them from the descriptors and checks the rules that matter for generated
and patched configuration:

* messages: ``required``; oneofs: ``(validate.required)``;
* strings: ``min_len``, ``max_len``, ``min_bytes``, ``max_bytes``, ``prefix``, ``suffix``,
  ``contains``, ``const``, ``in``, ``not_in``;
* numbers (and their wrapper messages): ``const``, ``lt``, ``lte``, ``gt``, ``gte``, ``in``,
  ``not_in``; enums: ``defined_only``, ``in``, ``not_in``;
* durations: ``required``, ``lt``, ``lte``, ``gt``, ``gte``; ``Any``: ``required``;
* repeated fields: ``min_items``, ``max_items`` and the ``items`` rules; maps: ``min_pairs``,
  ``max_pairs``.

Other rules (regex patterns, well-known string formats) are left to Envoy. ``Any`` values
are unpacked and checked when their type is loaded. As in protoc-gen-validate, scalar rules
apply to unset proto3 scalars (their zero value) unless ``ignore_empty`` is set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from google.protobuf import any_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from validate import validate_pb2

_WRAPPERS = {
    "google.protobuf.DoubleValue": "double",
    "google.protobuf.FloatValue": "float",
    "google.protobuf.Int64Value": "int64",
    "google.protobuf.UInt64Value": "uint64",
    "google.protobuf.Int32Value": "int32",
    "google.protobuf.UInt32Value": "uint32",
    "google.protobuf.BoolValue": "bool",
    "google.protobuf.StringValue": "string",
}
_DURATION = "google.protobuf.Duration"
_ANY = "google.protobuf.Any"


def violations(message: Message, path: str = "") -> Iterator[str]:
    """Each broken rule of ``message`` and its sub-messages: ``<field path>: <why>``."""
    descriptor: Descriptor = message.DESCRIPTOR
    for oneof in descriptor.oneofs:
        options = oneof.GetOptions()
        if options.Extensions[validate_pb2.required] and message.WhichOneof(oneof.name) is None:
            yield f"{path}{oneof.name}: one of its fields is required"
    for field in descriptor.fields:
        where = f"{path}{field.json_name}"
        rules = _rules(field)
        value = getattr(message, field.name)
        if field.is_repeated:
            yield from _repeated(field, value, rules, where)
            continue
        is_message = field.type == FieldDescriptor.TYPE_MESSAGE
        present = message.HasField(field.name) if is_message or field.containing_oneof else True
        if is_message:
            if not present:
                if rules is not None and not field.containing_oneof and _message_required(rules):
                    yield f"{where}: value is required"
                continue
            yield from _message_value(field.message_type.full_name, value, rules, where)
        elif rules is not None and (present or not field.containing_oneof):
            yield from _scalar(field, value, rules, where)


def _rules(field: FieldDescriptor) -> Any:
    options = field.GetOptions()
    return (
        options.Extensions[validate_pb2.rules] if options.HasExtension(validate_pb2.rules) else None
    )


def _message_required(rules: Any) -> bool:
    kind = rules.WhichOneof("type")
    if kind in ("duration", "any", "timestamp"):
        return bool(getattr(rules, kind).required)
    return bool(rules.message.required)


def _message_value(full_name: str, value: Any, rules: Any, where: str) -> Iterator[str]:
    if rules is not None and rules.message.skip:
        return
    wrapped = _WRAPPERS.get(full_name)
    if wrapped is not None:
        if rules is not None and rules.WhichOneof("type") == wrapped:
            yield from _check(getattr(rules, wrapped), value.value, where)
        return
    if full_name == _DURATION:
        if rules is not None and rules.WhichOneof("type") == "duration":
            yield from _duration(rules.duration, value, where)
        return
    if full_name == _ANY:
        inner = _unpacked(value)
        if inner is not None:
            yield from violations(inner, f"{where}.")
        return
    yield from violations(value, f"{where}.")


def _unpacked(value: any_pb2.Any) -> Message | None:
    name = value.type_url.rsplit("/", 1)[-1]
    try:
        descriptor = descriptor_pool.Default().FindMessageTypeByName(name)
    except KeyError:
        return None
    inner: Message = message_factory.GetMessageClass(descriptor)()
    return inner if value.Unpack(inner) else None


def _repeated(field: FieldDescriptor, value: Any, rules: Any, where: str) -> Iterator[str]:
    is_map = (
        field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type.GetOptions().map_entry
    )
    kind = rules.WhichOneof("type") if rules is not None else None
    count = len(value)
    if kind == "repeated":
        r = rules.repeated
        if r.HasField("min_items") and count < r.min_items:
            yield f"{where}: at least {r.min_items} item(s) required, got {count}"
        if r.HasField("max_items") and count > r.max_items:
            yield f"{where}: at most {r.max_items} item(s) allowed, got {count}"
    if kind == "map":
        r = rules.map
        if r.HasField("min_pairs") and count < r.min_pairs:
            yield f"{where}: at least {r.min_pairs} pair(s) required, got {count}"
    if is_map:
        entry_value = field.message_type.fields_by_name["value"]
        if entry_value.type == FieldDescriptor.TYPE_MESSAGE:
            for key in sorted(value):
                yield from violations(value[key], f"{where}[{key}].")
        return
    items = (
        rules.repeated.items if kind == "repeated" and rules.repeated.HasField("items") else None
    )
    for i, item in enumerate(value):
        here = f"{where}[{i}]"
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            yield from _message_value(field.message_type.full_name, item, items, here)
        elif items is not None:
            yield from _scalar(field, item, items, here)


def _scalar(field: FieldDescriptor, value: Any, rules: Any, where: str) -> Iterator[str]:
    kind = rules.WhichOneof("type")
    if kind is None:
        return
    specific = getattr(rules, kind)
    enum = field.enum_type if field.type == FieldDescriptor.TYPE_ENUM else None
    defined = enum is None or kind != "enum" or not specific.defined_only
    if not defined and enum is not None and enum.values_by_number.get(value) is None:
        yield f"{where}: value {value} is not a defined {enum.name}"
    yield from _check(specific, value, where)


def _check(rules: Any, value: Any, where: str) -> Iterator[str]:
    if getattr(rules, "ignore_empty", False) and not value:
        return
    fields = {f.name for f, _ in rules.ListFields()}
    tests: list[tuple[str, Callable[[Any], bool], str]] = [
        ("const", lambda r: value == r, "must equal {}"),
        ("lt", lambda r: value < r, "must be less than {}"),
        ("lte", lambda r: value <= r, "must be at most {}"),
        ("gt", lambda r: value > r, "must be greater than {}"),
        ("gte", lambda r: value >= r, "must be at least {}"),
        ("min_len", lambda r: len(value) >= r, "length must be at least {}"),
        ("max_len", lambda r: len(value) <= r, "length must be at most {}"),
        ("min_bytes", lambda r: len(str(value).encode()) >= r, "must have at least {} bytes"),
        ("max_bytes", lambda r: len(str(value).encode()) <= r, "must have at most {} bytes"),
        ("prefix", lambda r: str(value).startswith(r), "must start with {!r}"),
        ("suffix", lambda r: str(value).endswith(r), "must end with {!r}"),
        ("contains", lambda r: r in str(value), "must contain {!r}"),
        ("in", lambda r: value in list(r), "must be one of {}"),
        ("not_in", lambda r: value not in list(r), "must not be one of {}"),
    ]
    for name, passes, message in tests:
        if name in fields and not passes(getattr(rules, name)):
            shown = getattr(rules, name)
            shown = list(shown) if name in ("in", "not_in") else shown
            yield f"{where}: value {value!r} {message.format(shown)}"


def _duration(rules: Any, value: Any, where: str) -> Iterator[str]:
    nanos = value.seconds * 1_000_000_000 + value.nanos
    compare: dict[str, Callable[[int], bool]] = {
        "lt": lambda r: nanos < r,
        "lte": lambda r: nanos <= r,
        "gt": lambda r: nanos > r,
        "gte": lambda r: nanos >= r,
    }
    for name, passes in compare.items():
        if rules.HasField(name):
            bound = getattr(rules, name)
            limit = bound.seconds * 1_000_000_000 + bound.nanos
            if not passes(limit):
                yield f"{where}: duration {nanos / 1e9:g}s must be {name} {limit / 1e9:g}s"
