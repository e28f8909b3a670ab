"""Native Envoy values of a MeshProxyPatch: YAML to typed messages, messages to JSON and back,
and Kuma's proto merge.

Kuma 2.14 (``pkg/util/proto``): ``FromYAML`` turns YAML into JSON and unmarshals it with
``jsonpb`` allowing unknown fields (they are dropped: here a warning names them);
``ToJSON`` is ``jsonpb`` (camelCase names, unset fields left out); ``Merge`` is
``proto.Merge`` except that a ``google.protobuf.Duration`` set in the patch replaces the
whole duration (Kuma's workaround of golang/protobuf#1359). ``Any`` values name their type
by URL: the message types of the package it names are imported on demand from
``xds-protos``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml
from google.protobuf import any_pb2, descriptor_pool, json_format, message_factory
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

_TYPE_PREFIX = "type.googleapis.com/"
DURATION = "google.protobuf.Duration"


class NotEnvoyValue(ValueError):
    """A value that is not the Envoy message it must be (the message says why)."""


@dataclass(frozen=True, slots=True)
class Parsed:
    message: Message
    ignored: str | None = None
    """Why a strict parse failed (unknown fields Kuma drops too), or None."""


def parse_yaml(text: str, message_type: type[Message]) -> Parsed:
    """``text`` (YAML or JSON) as a ``message_type`` message."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise NotEnvoyValue(f"invalid YAML: {first}") from exc
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise NotEnvoyValue("expected a mapping of the resource's fields")
    return from_json(document, message_type)


def from_json(document: Any, message_type: type[Message]) -> Parsed:
    """A message from its protojson form; unknown fields are dropped with a note."""
    load_types(document)
    try:
        return Parsed(json_format.ParseDict(document, message_type()))
    except json_format.ParseError as exc:
        strict = str(exc)
    try:
        lenient = json_format.ParseDict(document, message_type(), ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise NotEnvoyValue(str(exc)) from exc
    return Parsed(lenient, strict)


def to_json(message: Message) -> dict[str, Any]:
    """Kuma's ``ToJSON``: camelCase names, unset fields left out."""
    load_any_types(message)
    out: dict[str, Any] = json_format.MessageToDict(message)
    return out


def load_types(document: Any) -> None:
    """Import the message types every ``@type`` of ``document`` names."""
    for type_url in _type_urls(document):
        ensure_type(type_url)


def _type_urls(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "@type" and isinstance(value, str):
                yield value
            else:
                yield from _type_urls(value)
    elif isinstance(node, list):
        for item in node:
            yield from _type_urls(item)


def load_any_types(message: Message) -> None:
    """Import the message types of the ``Any`` fields of ``message`` (recursively)."""
    for field, value in message.ListFields():
        if field.type != FieldDescriptor.TYPE_MESSAGE:
            continue
        if field.message_type.GetOptions().map_entry:
            values = list(value.values())
            if values and not isinstance(values[0], Message):
                continue
        else:
            values = list(value) if field.is_repeated else [value]
        for item in values:
            if isinstance(item, any_pb2.Any):
                if ensure_type(item.type_url):
                    inner = message_class(item.type_url)()
                    item.Unpack(inner)
                    load_any_types(inner)
            else:
                load_any_types(item)


def message_class(type_url: str) -> type[Message]:
    """The generated class of ``type_url`` (its module must be loaded: :func:`ensure_type`)."""
    name = type_url.removeprefix(_TYPE_PREFIX).rsplit("/", 1)[-1]
    descriptor = descriptor_pool.Default().FindMessageTypeByName(name)
    cls: type[Message] = message_factory.GetMessageClass(descriptor)
    return cls


def ensure_type(type_url: str) -> bool:
    """Load the module defining ``type_url``'s message; False when no installed proto has it."""
    name = type_url.removeprefix(_TYPE_PREFIX).rsplit("/", 1)[-1]
    pool = descriptor_pool.Default()
    try:
        pool.FindMessageTypeByName(name)
        return True
    except KeyError:
        pass
    for module in _modules_of(name.rsplit(".", 1)[0]):
        importlib.import_module(module)
    try:
        pool.FindMessageTypeByName(name)
        return True
    except KeyError:
        return False


PROTO_ROOTS = ("envoy", "xds", "udpa")
"""Top-level packages of ``xds-protos`` whose modules a type URL may load (a type URL is
repository input: it must never import anything else)."""


@cache
def _modules_of(package: str) -> tuple[str, ...]:
    """The ``_pb2`` modules of proto package ``package`` (``envoy.extensions...v3``)."""
    parts = package.split(".")
    if parts[0] not in PROTO_ROOTS or not all(p.isidentifier() for p in parts):
        return ()
    try:
        found = importlib.import_module(package)
    except ImportError:
        return ()
    paths = getattr(found, "__path__", None)
    if paths is None:
        return ()
    return tuple(
        f"{package}.{info.name}"
        for info in sorted(pkgutil.iter_modules(paths), key=lambda i: i.name)
        if info.name.endswith("_pb2")
    )


def merge(dst: Message, src: Message) -> None:
    """Kuma's ``util_proto.Merge``: ``proto.Merge``, but a Duration set in ``src`` replaces."""
    for field, value in src.ListFields():
        if field.is_repeated:
            if (
                field.type == FieldDescriptor.TYPE_MESSAGE
                and field.message_type.GetOptions().map_entry
            ):
                target = getattr(dst, field.name)
                for key in value:
                    if isinstance(value[key], Message):
                        target[key].CopyFrom(value[key])  # Go's merge replaces map entries
                    else:
                        target[key] = value[key]
            else:
                getattr(dst, field.name).extend(value)
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            target = getattr(dst, field.name)
            if field.message_type.full_name == DURATION:
                target.CopyFrom(value)
            else:
                target.SetInParent()
                merge(target, value)
        else:
            setattr(dst, field.name, value)


def merge_any(dst: any_pb2.Any, src: any_pb2.Any) -> any_pb2.Any:
    """Kuma ``MergeAnys``: both unpacked, merged, packed again (same type URL required)."""
    if not src.type_url:
        return dst
    if not dst.type_url:
        return src
    if src.type_url != dst.type_url:
        raise NotEnvoyValue(
            f"type URL of dst {dst.type_url!r} is different than src {src.type_url!r}"
        )
    if not ensure_type(dst.type_url):
        raise NotEnvoyValue(f"unknown message type {dst.type_url!r}")
    cls = message_class(dst.type_url)
    target, patch = cls(), cls()
    dst.Unpack(target)
    src.Unpack(patch)
    merge(target, patch)
    out = any_pb2.Any()
    out.Pack(target, deterministic=True)
    return out
