"""Schema completeness against Kuma 2.14.3's own schemas, checked mechanically.

New-style kinds: every property path of Kuma's published REST schema
(``kuma-v2.14.3-schemas/<kind>.rest.yaml``, ``components.schemas.<Kind>Item``) gets a
minimal sample value built from Kuma's type (every enum value, an integer and a string for
``x-kubernetes-int-or-string``, any JSON value where Kuma preserves unknown fields), put into
an otherwise minimal document; our schema (the ``jsonschema`` validator ``validate`` uses)
must accept each document, and our enums must equal Kuma's. Mesh, Dataplane, MeshGateway and
the zone proxies are protobuf messages Kuma reads with jsonpb: their enums also take numbers,
their durations are strings, and
what else jsonpb reads (integers in quotes, enum numbers) must pass once put in our canonical
form (``validate/canonical_form.py``). Legacy kinds: every field of their protobuf messages
(``kuma-v2.14.3-legacy-protos/``) must be a property of our schema under its JSON name and
its protobuf name, and take every value jsonpb reads for its type (numbers also in quotes,
enum names and numbers, ``null`` as unset). All mismatches are reported at once.

The reference files are in ``tests/kuma_reference/`` (``$KUMA_REFERENCE_DIR`` points the test at
another copy, e.g. of a newer Kuma release).
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.kinds import CATALOG, Category, Scope
from reconciler.validate.canonical_form import PROTOBUF_KINDS, canonical_data
from reconciler.validate.schema import validator_for
from reconciler.validate.schema_files import load_schema

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = Path(os.environ.get("KUMA_REFERENCE_DIR", ROOT / "tests" / "kuma_reference"))
REST = REFERENCE / "kuma-v2.14.3-schemas"
PROTOS = REFERENCE / "kuma-v2.14.3-legacy-protos"

NOT_KNOWN = {"MeshZoneAddress": "a zone-local address resource of Kuma's multizone control plane"}
"""Kuma REST schemas of kinds the reconciler does not read (none may be missing silently)."""

# A path is a tuple of steps: a property name, ITEM (an array element) or VALUE (a map value).
UNPUBLISHED = "x-unpublished"
"""Marks a message Kuma's REST files reference but do not publish: its content is unknown."""
ITEM = "[]"
VALUE = "{}"
Path_ = tuple[str, ...]


def show(path: Path_) -> str:
    text = ""
    for step in path:
        text += step if step in (ITEM, VALUE) else (f".{step}" if text else step)
    return text


# --- Kuma's schema ---------------------------------------------------------------------------


@cache
def kuma_items() -> dict[str, dict[str, Any]]:
    """Kind name -> Kuma's ``<Kind>Item`` schema, from every REST file."""
    found: dict[str, dict[str, Any]] = {}
    for file in sorted(REST.glob("*.rest.yaml")):
        document = yaml.safe_load(file.read_text("utf-8"))
        for name, item in document["components"]["schemas"].items():
            if name.endswith("Item"):
                found[name.removesuffix("Item")] = _resolve(item, document)
    return found


def _resolve(node: Any, document: dict[str, Any]) -> Any:
    """The node with local ``$ref``s inlined; a reference to another file (Mesh backend
    ``conf``: ``/specs/protoresources/...``, not published) becomes a free-form object."""
    if isinstance(node, list):
        return [_resolve(item, document) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        if not ref.startswith("#/"):
            return {"type": "object", UNPUBLISHED: True}
        target: Any = document
        for part in ref[2:].split("/"):
            target = target[part]
        return _resolve(target, document)
    return {key: _resolve(value, document) for key, value in node.items()}


def _branches(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for k in ("oneOf", "anyOf", "allOf") for b in node.get(k, []) if isinstance(b, dict)]


def _types(node: dict[str, Any]) -> set[str]:
    declared = node.get("type")
    found = {declared} if isinstance(declared, str) else set(declared or ())
    for branch in _branches(node):
        found |= _types(branch)
    return found


def _properties(node: dict[str, Any]) -> dict[str, Any]:
    props = dict(node.get("properties", {}))
    for branch in _branches(node):
        props.update(_properties(branch))
    return props


_STRINGS = ("a", "1", "1s", "127.0.0.1", "a.b", "/a", "http://a.b:80/a", "a_b", "A")


def _string_samples(node: dict[str, Any]) -> list[Any]:
    if node.get("format") == "date-time":
        return ["2024-01-01T00:00:00Z"]
    if node.get("format") == "byte":
        return ["YQ=="]
    pattern = node.get("pattern")
    candidates = [s for s in _STRINGS if pattern is None or re.search(pattern, s)]
    min_length = node.get("minLength", 0)
    return [s for s in candidates if len(s) >= min_length] or ["a" * max(1, min_length)]


@dataclass(frozen=True, slots=True)
class Leaf:
    """A value Kuma accepts at ``path``: each of ``all_of`` must be accepted by our schema,
    and at least one of ``any_of`` (strings: our schema may narrow a free string with a
    pattern Kuma's validator enforces, so one plausible string is enough)."""

    path: Path_
    all_of: tuple[Any, ...]
    any_of: tuple[Any, ...] = ()
    enum: tuple[Any, ...] | None = None
    proto_enum: bool = False


def leaves(node: dict[str, Any], path: Path_ = ()) -> Iterator[Leaf]:
    """Every leaf of Kuma's schema, with the values to try there."""
    types = _types(node)
    props = _properties(node)
    if node.get(UNPUBLISHED) or (
        _branches(node) and all(b.get(UNPUBLISHED) for b in _branches(node)) and not props
    ):
        return
    if set(props) == {"seconds", "nanos"}:
        # google.protobuf.Duration: the generator shows the message, protojson reads a string
        yield Leaf(path, ("1s",))
        return
    for name, sub in props.items():
        yield from leaves(sub, (*path, name))
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        yield from leaves(extra, (*path, VALUE))
    if isinstance(node.get("items"), dict):
        yield from leaves(node["items"], (*path, ITEM))
    if props or isinstance(extra, dict) or "items" in node:
        return
    if node.get("x-kubernetes-int-or-string"):
        yield Leaf(path, (1, "1"))
    elif types == {"integer", "string"} and "oneOf" in node:
        # a protobuf enum: its name, or its number (protojson reads both)
        yield Leaf(path, (0,), proto_enum=True)
    elif "enum" in node:
        yield Leaf(path, tuple(node["enum"]), enum=tuple(node["enum"]))
    elif node.get("x-kubernetes-preserve-unknown-fields") and not types - {"object"}:
        free = ({"a": {"b": [1, "c"]}},) if types else ("a", 1, True, [1], {"a": {"b": 1}})
        yield Leaf(path, free)
    elif types == {"string"}:
        yield Leaf(path, (), tuple(_string_samples(node)))
    elif types == {"integer"}:
        yield Leaf(path, (max(1, node.get("minimum", 1)),))
    elif types == {"number"}:
        yield Leaf(path, (1.5,))
    elif types == {"boolean"}:
        yield Leaf(path, (True, False))
    elif types == {"object"}:
        yield Leaf(path, ({},))
    elif types == {"array"}:
        yield Leaf(path, ([],))
    else:
        raise AssertionError(f"unhandled Kuma schema node at {show(path)}: {node}")


def minimal(node: dict[str, Any]) -> Any:
    """The smallest value of ``node`` Kuma's schema accepts: its required fields, filled."""
    types = _types(node)
    if "enum" in node:
        return node["enum"][0]
    if "array" in types:
        return [minimal(node["items"])] * node.get("minItems", 0)
    if types & {"object"} or _properties(node):
        props = _properties(node)
        return {name: minimal(props[name]) for name in node.get("required", []) if name in props}
    if node.get("x-kubernetes-int-or-string") or "integer" in types:
        return 1
    if "array" in types:
        return []
    if "boolean" in types:
        return True
    if "number" in types:
        return 1.5
    return _string_samples(node)[0] if "string" in types else {}


def document_with(item: dict[str, Any], kind: str, path: Path_, value: Any) -> dict[str, Any]:
    """A minimal document of ``kind`` with ``value`` at ``path`` (required siblings filled)."""
    document = minimal(item)
    document["type"] = kind
    document["name"] = "sample"
    if CATALOG[kind].scope is Scope.MESH:
        document["mesh"] = "default"
    node: Any = item
    target: Any = document
    for depth, step in enumerate(path):
        last = depth == len(path) - 1
        if step == ITEM:
            node = node["items"]
            target.insert(0, value if last else minimal(node))
            target = target[0]
        elif step == VALUE:
            node = node["additionalProperties"]
            target["key"] = value if last else minimal(node)
            target = target["key"]
        else:
            node = _properties(node)[step]
            if last:
                target[step] = value
            else:
                if not isinstance(target.get(step), dict | list):
                    target[step] = minimal(node)
                if isinstance(target[step], list) and path[depth + 1] == ITEM:
                    target[step] = target[step][1:]  # the element on the path comes first
                target = target[step]
    return document


# --- our schema ------------------------------------------------------------------------------


def our_nodes(schema: Any, path: Path_) -> list[dict[str, Any]]:
    """Every subschema of ours that describes the value at ``path`` (through combinators)."""
    if not isinstance(schema, dict):
        return []
    expanded = [schema]
    for keyword in ("allOf", "anyOf", "oneOf"):
        for branch in schema.get(keyword, []):
            expanded.extend(our_nodes(branch, ()))
    for keyword in ("then", "else"):
        expanded.extend(our_nodes(schema.get(keyword), ()))
    if not path:
        return expanded
    step, rest = path[0], path[1:]
    found: list[dict[str, Any]] = []
    for node in expanded:
        if step == ITEM:
            found.extend(our_nodes(node.get("items"), rest))
        elif step == VALUE:
            found.extend(our_nodes(node.get("additionalProperties"), rest))
        else:
            found.extend(our_nodes(node.get("properties", {}).get(step), rest))
    return found


def our_enum(schema: dict[str, Any], path: Path_) -> set[Any] | None:
    values: set[Any] | None = None
    for node in our_nodes(schema, path):
        if node.get("enum"):  # an empty enum forbids, it lists nothing
            values = (values or set()) | set(node["enum"])
        if "const" in node and path:
            values = (values or set()) | {node["const"]}
    return values


def rejections(kind: str, document: dict[str, Any]) -> list[str]:
    return [
        f"{show(tuple(str(p) for p in e.absolute_path)) or '<root>'}: {e.message}"
        for e in validator_for(kind).iter_errors(document)
    ]


def jsonpb_rejections(kind: str, item: dict[str, Any], leaf: Leaf) -> list[str]:
    """What jsonpb reads at ``leaf`` besides Kuma's published form, and our canonical form
    (``validate/canonical_form.py``) does not turn into an accepted document: integers in
    quotes, and enum values as numbers (0 is every protobuf enum's first value)."""
    if leaf.proto_enum:
        samples: tuple[Any, ...] = (0,)
    else:
        samples = tuple(str(v) for v in leaf.all_of if type(v) is int)
    problems: list[str] = []
    for value in samples:
        document = canonical_data(kind, document_with(item, kind, leaf.path, value))
        errors = rejections(kind, dict(document))
        if errors:
            problems.append(f"{show(leaf.path)} = {value!r} (jsonpb): {'; '.join(errors)}")
    return problems


def rest_kinds() -> list[str]:
    if not REST.is_dir():
        return []
    return sorted(k for k in kuma_items() if k not in NOT_KNOWN)


# --- the tests -------------------------------------------------------------------------------


def test_every_kuma_rest_schema_is_a_known_kind() -> None:
    unknown = sorted(set(kuma_items()) - set(CATALOG) - set(NOT_KNOWN))
    assert not unknown, f"Kuma kinds without a reconciler kind: {unknown}"
    new_style = {n for n, s in CATALOG.items() if s.category is not Category.LEGACY}
    assert not new_style - set(kuma_items()), "kinds without a Kuma REST schema"


@pytest.mark.parametrize("kind", rest_kinds())
def test_our_schema_accepts_every_kuma_property(kind: str) -> None:
    item = kuma_items()[kind]
    ours = load_schema(kind)
    problems: list[str] = []
    baseline = rejections(kind, document_with(item, kind, (), None))
    if baseline:
        problems.append(f"<minimal document>: rejected: {baseline}")
    for leaf in leaves(item):
        if leaf.path == ("type",):
            continue  # the kind itself (Kuma's proto-based kinds type it as any string)
        where = show(leaf.path)
        for value in leaf.all_of:
            errors = rejections(kind, document_with(item, kind, leaf.path, copy.deepcopy(value)))
            if errors:
                problems.append(f"{where} = {value!r}: rejected: {'; '.join(errors)}")
        if kind in PROTOBUF_KINDS:
            problems.extend(jsonpb_rejections(kind, item, leaf))
        candidates = leaf.any_of
        if leaf.proto_enum:
            candidates = tuple(sorted(our_enum(ours, leaf.path) or {"a"}))
        if candidates:
            tried = [
                rejections(kind, document_with(item, kind, leaf.path, value))
                for value in candidates
            ]
            if all(tried):
                problems.append(f"{where}: no string accepted ({'; '.join(tried[0])})")
        if leaf.enum is not None:
            mine = our_enum(ours, leaf.path)
            if mine is None:
                problems.append(f"{where}: Kuma allows only {list(leaf.enum)}, ours any value")
            elif mine != set(leaf.enum):
                problems.append(
                    f"{where}: enum differs: Kuma {sorted(map(str, leaf.enum))}, "
                    f"ours {sorted(map(str, mine))}"
                )
    assert not problems, f"{kind}: {len(problems)} mismatches with Kuma 2.14.3:\n" + "\n".join(
        problems
    )


# --- legacy kinds: Kuma's protobuf definitions ------------------------------------------------

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_.]*|-?[0-9]+|[{}\[\]<>=;,()]')
_FREE = {"google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.Any"}
"""Well-known messages read as any JSON value (nothing to walk into)."""


@dataclass(frozen=True, slots=True)
class ProtoField:
    name: str
    type: str
    scope: str  # full name of the message that declares it (for type lookup)
    repeated: bool = False
    map_value: bool = False  # a map<string, type>: the JSON object's values are `type`

    @property
    def json_name(self) -> str:
        """protoc's JSON name: each letter after an underscore upper-cased, underscores gone."""
        head, *rest = self.name.split("_")
        return head + "".join(p[:1].upper() + p[1:] for p in rest)


Messages = dict[str, list[ProtoField]]
Enums = dict[str, tuple[str, ...]]


def _tokens(text: str) -> list[str]:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return _TOKEN.findall(text)


def _skip_group(tokens: list[str], i: int, open_: str, close: str) -> int:
    depth = 0
    while True:
        depth += (tokens[i] == open_) - (tokens[i] == close)
        i += 1
        if depth == 0:
            return i


def _enum(tokens: list[str], i: int, name: str, enums: dict[str, tuple[str, ...]]) -> int:
    """Record the value names of the enum whose ``{`` is at ``i``; the index after its ``}``."""
    end = _skip_group(tokens, i, "{", "}")
    body = tokens[i + 1 : end - 1]
    enums[name] = tuple(body[k] for k in range(len(body) - 1) if body[k + 1] == "=")
    return end


def _parse_body(
    tokens: list[str],
    i: int,
    scope: str,
    messages: dict[str, list[ProtoField]],
    enums: dict[str, tuple[str, ...]],
) -> int:
    """Parse a message body from after its ``{``; returns the index after its ``}``."""
    fields = messages.setdefault(scope, [])
    while tokens[i] != "}":
        word = tokens[i]
        if word in ("message", "enum"):
            name = tokens[i + 1]
            if word == "message":
                i = _parse_body(tokens, i + 3, f"{scope}.{name}", messages, enums)
            else:
                i = _enum(tokens, i + 2, f"{scope}.{name}", enums)
        elif word == "oneof":
            i += 3  # `oneof name {`: its members are fields of the message
            while tokens[i] != "}":
                i = _parse_field(tokens, i, scope, fields)
            i += 1
        elif word in ("option", "reserved"):
            while tokens[i] != ";":
                i = _skip_group(tokens, i, "{", "}") if tokens[i] == "{" else i + 1
            i += 1
        else:
            i = _parse_field(tokens, i, scope, fields)
    return i + 1


def _parse_field(tokens: list[str], i: int, scope: str, fields: list[ProtoField]) -> int:
    repeated = tokens[i] == "repeated"
    i += repeated
    if tokens[i] == "map":  # map < key , value > name = N
        type_, name, i = tokens[i + 4], tokens[i + 6], i + 9
        field = ProtoField(name, type_, scope, map_value=True)
    else:
        type_, name, i = tokens[i], tokens[i + 1], i + 4
        field = ProtoField(name, type_, scope, repeated=repeated)
    if tokens[i] == "[":
        i = _skip_group(tokens, i, "[", "]")
    assert tokens[i] == ";", f"unexpected {tokens[i - 3 : i + 1]} in {scope}"
    fields.append(field)
    return i + 1


def proto_messages() -> tuple[dict[str, list[ProtoField]], dict[str, str]]:
    """(message full name -> fields, kind -> root message), from every .proto file."""
    messages, roots, _ = proto_files()
    return messages, roots


@cache
def proto_files() -> tuple[Messages, dict[str, str], Enums]:
    """Messages (full name -> fields), roots (kind -> message) and enums (full name ->
    value names) of every .proto file."""
    messages: dict[str, list[ProtoField]] = {}
    roots: dict[str, str] = {}
    enums: dict[str, tuple[str, ...]] = {}
    for file in sorted(PROTOS.glob("*.proto")):
        text = file.read_text("utf-8")
        tokens = _tokens(text)
        i = 0
        while i < len(tokens):
            if tokens[i] in ("message", "enum") and i + 2 < len(tokens) and tokens[i + 2] == "{":
                name = tokens[i + 1]
                if tokens[i] == "message":
                    i = _parse_body(tokens, i + 3, name, messages, enums)
                else:
                    i = _enum(tokens, i + 2, name, enums)
            else:
                i += 1
        for match in re.finditer(
            r"message (\w+) \{\s*option \(kuma\.mesh\.resource\)\.name = \"\w+\";\s*"
            r"option \(kuma\.mesh\.resource\)\.type = \"(\w+)\"",
            text,
        ):
            roots[match.group(2)] = match.group(1)
    return messages, roots, enums


def _lookup(type_: str, scope: str, messages: Mapping[str, object]) -> str | None:
    """The full name of a message type as protoc resolves it from ``scope`` (inner first)."""
    parts = scope.split(".")
    for depth in range(len(parts), -1, -1):
        candidate = ".".join([*parts[:depth], type_])
        if candidate in messages:
            return candidate
    return None


def proto_paths(message: str, path: Path_ = ()) -> Iterator[tuple[Path_, ProtoField]]:
    """(path of the containing object, field) for every field reachable from ``message``;
    paths use JSON names, and a message field is walked under both of its names."""
    messages, _ = proto_messages()
    for field in messages[message]:
        yield path, field
        target = _lookup(field.type, field.scope, messages)
        if target is None or field.type in _FREE or target == message:
            continue
        for name in dict.fromkeys((field.json_name, field.name)):
            sub = (*path, name, *((ITEM,) if field.repeated else ()))
            sub = (*sub, VALUE) if field.map_value else sub
            yield from proto_paths(target, sub)


def legacy_kinds() -> list[str]:
    return sorted(n for n, s in CATALOG.items() if s.category is Category.LEGACY)


@pytest.mark.parametrize("kind", legacy_kinds())
def test_legacy_schema_has_every_proto_field_under_both_names(kind: str) -> None:
    _, roots = proto_messages()
    assert kind in roots, f"no protobuf message declares the Kuma type {kind}"
    ours = load_schema(kind)
    problems: list[str] = []
    for path, field in proto_paths(roots[kind]):
        objects = our_nodes(ours, path)
        for name in dict.fromkeys((field.json_name, field.name)):
            if not any(name in node.get("properties", {}) for node in objects):
                problems.append(f"{show((*path, name))}: missing ({field.type} in {field.scope})")
    assert not problems, f"{kind}: {len(problems)} protobuf fields missing:\n" + "\n".join(problems)


PROTO_SAMPLES: dict[str, tuple[Any, ...]] = {
    # jsonpb reads integers and floating-point numbers also in quotes (it strips them)
    "uint32": (1, "1"),
    "uint64": (1, "1"),
    "google.protobuf.UInt32Value": (1, "1"),
    "google.protobuf.FloatValue": (1.5, "1.5", 1),
    "google.protobuf.DoubleValue": (1.5, "1.5", 1),
    "bool": (True,),
    "google.protobuf.BoolValue": (True,),
    "string": ("a",),
    "google.protobuf.StringValue": ("a",),
    "google.protobuf.BytesValue": ("YQ==",),
    "google.protobuf.Duration": ("1s",),
    "kuma.system.v1alpha1.DataSource": ({"secret": "a"},),
    "HttpMethod": ("GET", 1),  # api/mesh/v1alpha1/http_method.proto (not published here)
}
"""Values jsonpb accepts for each protobuf type (messages: ``{}``; enums: a name, a number)."""


def proto_samples(field: ProtoField) -> tuple[Any, ...]:
    messages, _, enums = proto_files()
    samples = PROTO_SAMPLES.get(field.type)
    enum = _lookup(field.type, field.scope, enums)
    if samples is None and enum is not None:
        samples = (enums[enum][-1], 0)
    if samples is None:
        assert _lookup(field.type, field.scope, messages) or field.type in _FREE, field
        samples = ({},)
    if field.repeated:
        return tuple([v] for v in samples)
    if field.map_value:
        return tuple({"k": v} for v in samples)
    return (*samples, None)  # null: unset


def document_at(kind: str, path: Path_, name: str, value: Any) -> dict[str, Any]:
    """``{type, name, mesh}`` with ``value`` under ``name`` in the object at ``path``."""
    document: dict[str, Any] = {"type": kind, "name": "sample", "mesh": "default"}
    target: Any = document
    for depth, step in enumerate(path):
        if step in (ITEM, VALUE):
            continue
        following = path[depth + 1] if depth + 1 < len(path) else None
        if following == ITEM:
            target[step] = [{}]
            target = target[step][0]
        elif following == VALUE:
            target[step] = {"key": {}}
            target = target[step]["key"]
        else:
            target = target.setdefault(step, {})
    target[name] = value
    return document


@pytest.mark.parametrize("kind", legacy_kinds())
def test_legacy_schema_accepts_what_jsonpb_reads(kind: str) -> None:
    """Each field, under each name, takes every form of value Kuma's jsonpb accepts."""
    _, roots = proto_messages()
    problems: list[str] = []
    for path, field in proto_paths(roots[kind]):
        for name in dict.fromkeys((field.json_name, field.name)):
            for value in proto_samples(field):
                document = document_at(kind, path, name, copy.deepcopy(value))
                errors = [
                    e.message
                    for e in validator_for(kind).iter_errors(document)
                    if e.validator != "required"  # siblings the sample leaves out
                ]
                if errors:
                    problems.append(f"{show((*path, name))} = {value!r}: {'; '.join(errors)}")
    assert not problems, f"{kind}: {len(problems)} values rejected:\n" + "\n".join(problems)
