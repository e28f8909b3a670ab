"""YAML text -> plain documents with positions, never an exception for bad input.

libyaml (``CSafeLoader``) composes the node graph in C; one Python pass turns nodes into
plain data while enforcing the limits (depth, node budget for alias bombs), refusing
duplicate keys and values with no JSON equivalent. Root nodes are kept so a field path
can be located later; :func:`compose_roots` recomposes them on demand for cached files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from reconciler import codes
from reconciler.diagnostics import Diagnostic, at_file
from reconciler.model import FieldPath, Position

_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Resolver = yaml.resolver.Resolver

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
                result.diagnostics.append(at_file(exc.code, file, exc.message, **_where(exc.node)))
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


def _where(node: yaml.Node) -> dict[str, int]:
    p = _pos(node.start_mark)
    return {"line": p.line, "col": p.col}


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
        self.budget -= 1
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
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        if isinstance(node, yaml.SequenceNode):
            if node.tag not in (_SEQ,):
                return self._unsupported(node, f"tag {node.tag!r}")
            return [self.build(child, depth + 1) for child in node.value]
        assert isinstance(node, yaml.MappingNode)
        if node.tag not in (_MAP,):
            return self._unsupported(node, f"tag {node.tag!r}")
        return self._mapping(node, depth)

    def _mapping(self, node: yaml.MappingNode, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first_seen: dict[str, yaml.Node] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged.update(self._merge_sources(value_node, depth))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self._unsupported(key_node, "a mapping or list used as a key")
                continue
            key = str(key_node.value)
            if key in first_seen:
                first = _pos(first_seen[key].start_mark)
                self.diagnostics.append(
                    at_file(
                        codes.YAML_DUPLICATE_KEY,
                        self.file,
                        f"duplicate key {key!r}; first defined at line {first.line}, "
                        f"column {first.col}",
                        **_where(key_node),
                    )
                )
                continue
            first_seen[key] = key_node
            out[key] = self.build(value_node, depth + 1)
        if merged:
            for key, value in merged.items():
                out.setdefault(key, value)
        return out

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
            return node.value
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
                **_where(node),
            )
        )
        return None


def locate(root: yaml.Node | None, path: FieldPath) -> Position | None:
    """Position of the deepest node on ``path``: a mapping entry's key, a list item itself."""
    if root is None:
        return None
    node: yaml.Node = root
    best = _pos(node.start_mark)
    for part in path:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == part:
                    best = _pos(key_node.start_mark)
                    node = value_node
                    break
            else:
                return best
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                return best
            node = node.value[part]
            best = _pos(node.start_mark)
        else:
            return best
    return best


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


def lazy_locator(text: str, index: int) -> Callable[[FieldPath], Position | None]:
    """A locator that composes ``text`` only when a position is first asked for."""
    state: dict[str, list[yaml.Node | None]] = {}

    def _locate(path: FieldPath) -> Position | None:
        if "roots" not in state:
            state["roots"] = compose_roots(text)
        roots = state["roots"]
        return locate(roots[index], path) if index < len(roots) else None

    return _locate
