"""YAML text -> plain documents with positions, never an exception for bad input.

libyaml (``CSafeLoader``) composes the node graph in C; one Python pass turns nodes into
plain data while enforcing the limits (depth, node budget for alias bombs), refusing
duplicate keys and values with no JSON equivalent. Root nodes are kept so a field path
can be located later; :func:`compose_roots` recomposes them on demand for cached files.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from reconciler import codes
from reconciler.diagnostics import Diagnostic, at_file
from reconciler.model import FieldPath, Position

_BaseLoader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ScalarNode = yaml.ScalarNode
_SequenceNode = yaml.SequenceNode
_MappingNode = yaml.MappingNode
_TAG_CACHE_LIMIT = 50_000


class _Loader(_BaseLoader):  # type: ignore[misc]
    """libyaml's loader with a memo for implicit scalar tags.

    libyaml calls back into Python's regex-based resolver for every plain scalar; the same
    keys and values (``type``, ``kuma.io/service``, ``http``) recur in every file, so a memo
    keyed by the scalar's text removes most of that cost.
    """

    _tags: dict[str, str] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is _ScalarNode and implicit[0]:
            tags = _Loader._tags
            tag = tags.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(tags) < _TAG_CACHE_LIMIT:
                    tags[value] = tag
            return tag
        return super().resolve(kind, value, implicit)


MAX_DEPTH = 64
"""Deepest nesting accepted. Kuma resources nest about 10 levels; 64 leaves room for any real file."""

MAX_NODES = 200_000
"""Nodes one document may expand to, counting every alias use: bounds 'billion laughs' files."""

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"

_constructor = yaml.constructor.SafeConstructor()
_intern = sys.intern
_INTERN_MAX = 64
"""String values up to this long are interned: names, services, addresses, kinds and tag
values repeat across the documents a server keeps (one object each instead of one per use)."""


def shared_text(value: str) -> str:
    """``value``, interned when short (both YAML paths build string values with it)."""
    return _intern(value) if len(value) <= _INTERN_MAX else value


@dataclass(slots=True)
class ParsedDocument:
    """One document: its plain data (None when empty) and its root node for positions."""

    index: int
    data: Any
    root: yaml.Node | None
    position: Position


@dataclass(slots=True)
class ParsedFile:
    documents: list[ParsedDocument] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


class _LimitExceeded(Exception):
    def __init__(self, code: str, message: str, node: yaml.Node) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.node = node


def _pos(mark: Any) -> Position:
    return Position(mark.line + 1, mark.column + 1)


def parse_text(text: str, file: str) -> ParsedFile:
    """Every document of ``text``; bad input becomes diagnostics (documents before it are kept)."""
    result = ParsedFile()
    loader = _Loader(text)
    index = 0
    try:
        while loader.check_node():
            root = loader.get_node()
            start = _pos(root.start_mark)
            try:
                data = _Builder(file, result.diagnostics).build(root)
            except _LimitExceeded as exc:
                result.diagnostics.append(
                    at_file(exc.code, file, exc.message, at=_pos(exc.node.start_mark))
                )
                data = _INVALID
            except RecursionError:
                result.diagnostics.append(
                    at_file(
                        codes.YAML_DEPTH_LIMIT,
                        file,
                        f"nesting is deeper than the limit of {MAX_DEPTH} levels",
                        line=start.line,
                        col=start.col,
                    )
                )
                data = _INVALID
            result.documents.append(ParsedDocument(index, data, root, start))
            index += 1
    except yaml.MarkedYAMLError as exc:
        result.diagnostics.append(_syntax_diagnostic(exc, file, text))
    except yaml.YAMLError as exc:  # reader errors without marks (e.g. control characters)
        result.diagnostics.append(at_file(codes.YAML_SYNTAX, file, _one_line(str(exc))))
    except RecursionError:
        result.diagnostics.append(
            at_file(
                codes.YAML_DEPTH_LIMIT,
                file,
                f"nesting is too deep to parse (the limit is {MAX_DEPTH} levels)",
            )
        )
    finally:
        loader.dispose()
    return result


_INVALID = object()
"""Marker for a document whose data could not be built (a diagnostic says why)."""


def is_invalid(data: object) -> bool:
    return data is _INVALID


def _syntax_diagnostic(exc: yaml.MarkedYAMLError, file: str, text: str) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    col = mark.column + 1 if mark else None
    problem = exc.problem or "invalid YAML"
    if "'\\t'" in problem or "\t" in problem or _tab_at(text, mark):
        return at_file(
            codes.YAML_TAB,
            file,
            "tab character used for indentation; YAML allows only spaces",
            line=line,
            col=col,
        )
    message = problem
    if exc.context:
        message = f"{problem} ({exc.context}"
        if exc.context_mark and exc.context_mark is not mark:
            message += f" at line {exc.context_mark.line + 1}"
        message += ")"
    return at_file(codes.YAML_SYNTAX, file, _one_line(message), line=line, col=col)


def _tab_at(text: str, mark: Any) -> bool:
    if mark is None:
        return False
    lines = text.splitlines()
    if mark.line >= len(lines):
        return False
    line = lines[mark.line]
    return "\t" in line[: len(line) - len(line.lstrip())]


def _one_line(text: str) -> str:
    return " ".join(text.split())


class _Builder:
    """Node graph -> plain data, with limits; records non-fatal problems as diagnostics."""

    def __init__(self, file: str, diagnostics: list[Diagnostic]) -> None:
        self.file = file
        self.diagnostics = diagnostics
        self.budget = MAX_NODES

    def build(self, node: yaml.Node, depth: int = 0) -> Any:
        cls = node.__class__
        if cls is _ScalarNode:
            return shared_text(node.value) if node.tag == _STR else self._scalar(node)  # type: ignore[arg-type]
        # Every element of a collection counts against the budget, so neither deep nor wide
        # alias expansion can run away.
        self.budget -= len(node.value) + 1
        if self.budget < 0:
            raise _LimitExceeded(
                codes.YAML_ALIAS_LIMIT,
                f"document expands to more than {MAX_NODES} nodes (aliases referring to "
                "aliases); refusing to expand it",
                node,
            )
        if depth > MAX_DEPTH:
            raise _LimitExceeded(
                codes.YAML_DEPTH_LIMIT,
                f"nesting is deeper than the limit of {MAX_DEPTH} levels",
                node,
            )
        if cls is _SequenceNode:
            if node.tag != _SEQ:
                return self._unsupported(node, f"tag {node.tag!r}")
            inner = depth + 1
            return [
                shared_text(child.value)
                if child.__class__ is _ScalarNode and child.tag == _STR
                else self.build(child, inner)
                for child in node.value
            ]
        assert cls is _MappingNode
        if node.tag != _MAP:
            return self._unsupported(node, f"tag {node.tag!r}")
        return self._mapping(node, depth)  # type: ignore[arg-type]

    def _mapping(self, node: yaml.MappingNode, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        inner = depth + 1
        for key_node, value_node in node.value:
            if key_node.__class__ is not _ScalarNode:
                self._unsupported(key_node, "a mapping or list used as a key")
                continue
            if key_node.tag == _MERGE:
                merged.update(self._merge_sources(value_node, depth))
                continue
            key = _intern(key_node.value)  # the same few keys in every document: held once
            if key in out:
                self._duplicate(node, key_node)
                continue
            if value_node.__class__ is _ScalarNode and value_node.tag == _STR:
                out[key] = shared_text(value_node.value)
            else:
                out[key] = self.build(value_node, inner)
        if merged:
            for key, value in merged.items():
                out.setdefault(key, value)
        return out

    def _duplicate(self, mapping: yaml.MappingNode, key_node: yaml.Node) -> None:
        first_node = next(k for k, _ in mapping.value if k.value == key_node.value)
        first = _pos(first_node.start_mark)
        self.diagnostics.append(
            at_file(
                codes.YAML_DUPLICATE_KEY,
                self.file,
                f"duplicate key {key_node.value!r}; first defined at line {first.line}, "
                f"column {first.col}",
                at=_pos(key_node.start_mark),
            )
        )

    def _merge_sources(self, node: yaml.Node, depth: int) -> dict[str, Any]:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        merged: dict[str, Any] = {}
        for source in reversed(sources):
            value = self.build(source, depth + 1)
            if isinstance(value, dict):
                merged.update(value)
            else:
                self._unsupported(source, "a merge key (<<) whose value is not a mapping")
        return merged

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        tag = node.tag
        if tag == _STR:
            return shared_text(node.value)
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return _constructor.construct_yaml_bool(node)
        if tag == _INT:
            return _constructor.construct_yaml_int(node)
        if tag == _FLOAT:
            return _constructor.construct_yaml_float(node)
        if tag == _TIMESTAMP:
            return node.value  # JSON has no timestamps: keep the text as written
        if tag == "tag:yaml.org,2002:binary":
            return self._unsupported(node, "a binary value (!!binary)")
        return self._unsupported(node, f"tag {tag!r}")

    def _unsupported(self, node: yaml.Node, what: str) -> Any:
        self.diagnostics.append(
            at_file(
                codes.YAML_UNSUPPORTED_VALUE,
                self.file,
                f"{what} has no JSON equivalent; write a plain string, number, list or mapping",
                at=_pos(node.start_mark),
            )
        )
        return None


_resolver = yaml.resolver.Resolver()
_NO_MARK = yaml.Mark("", 0, 0, 0, "", 0)


def build_plain_scalar(value: str) -> Any:
    """The value a plain scalar reading ``value`` has in a document (PyYAML's YAML 1.1
    resolvers, then :class:`_Builder`); ValueError for one the builder reports as having no
    JSON equivalent (``=``, ``<<`` as a value)."""
    tag: str = _resolver.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    diagnostics: list[Diagnostic] = []
    data = _Builder("", diagnostics)._scalar(yaml.ScalarNode(tag, value, _NO_MARK, _NO_MARK))
    if diagnostics:
        raise ValueError(diagnostics[0].message)
    return data


def locate(root: yaml.Node | None, path: FieldPath) -> Position | None:
    """Position of the deepest node on ``path``: a mapping entry's key, a list item itself.

    A field the canonical form names by its JSON name (``transparentProxying``) is found
    under its protobuf name (``transparent_proxying``) when the file spells it so."""
    if root is None:
        return None
    node: yaml.Node = root
    best = _pos(node.start_mark)
    for part in path:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            found = _entry(node, part) or _entry(node, _protobuf_name(part))
            if found is None:
                return best
            key_node, node = found
            best = _pos(key_node.start_mark)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                return best
            node = node.value[part]
            best = _pos(node.start_mark)
        else:
            return best
    return best


def _entry(node: yaml.MappingNode, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return key_node, value_node
    return None


def _protobuf_name(json_name: str) -> str:
    """The protobuf spelling of a JSON field name (protoc's json_name, reversed)."""
    return _UPPER.sub(lambda m: "_" + m.group(0).lower(), json_name)


_UPPER = re.compile(r"[A-Z]")


def compose_roots(text: str) -> list[yaml.Node | None]:
    """Root node of every document of ``text`` (for positions of a cached file)."""
    loader = _Loader(text)
    roots: list[yaml.Node | None] = []
    try:
        while loader.check_node():
            roots.append(loader.get_node())
    except yaml.YAMLError:
        pass
    finally:
        loader.dispose()
    return roots


class LazyLocator:
    """A locator that composes ``text`` only when a position is first asked for.

    A slotted object, not a closure: a server keeps one per loaded resource (thousands), and
    a closure with its cell and state dict is about eight times larger."""

    __slots__ = ("_roots", "index", "text")

    def __init__(self, text: str | bytes, index: int) -> None:
        self.text = text
        """The file's text, or its bytes (UTF-8, decoded when a position is first asked
        for: the bytes are the ones the source keeps anyway)."""
        self.index = index
        self._roots: list[yaml.Node | None] | None = None

    @property
    def composed(self) -> bool:
        """Whether the node graph is held (a position was asked for)."""
        return self._roots is not None

    def __call__(self, path: FieldPath) -> Position | None:
        if self._roots is None:
            text = self.text
            self._roots = compose_roots(text if isinstance(text, str) else text.decode("utf-8-sig"))
        roots = self._roots
        return locate(roots[self.index], path) if self.index < len(roots) else None


def lazy_locator(text: str | bytes, index: int) -> Callable[[FieldPath], Position | None]:
    """A locator that composes ``text`` only when a position is first asked for."""
    return LazyLocator(text, index)
