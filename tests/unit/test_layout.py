"""The architecture stays visible: layers, no import cycles, the xds name collision.

Every import of every module counts, wherever it is written: at the top, inside a function
(a lazy import that keeps start-up fast) or under ``TYPE_CHECKING``. A module may import its
own layer and the layers below; an upward import or a cycle between modules fails.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "reconciler"

LAYERS: tuple[tuple[str, ...], ...] = (
    # the bottom layer: data, names and codes; it imports no stage
    (
        "reconciler",
        "errors",
        "addresses",
        "codes",
        "durations",
        "model",
        "names",
        "resource_types",
        "diagnostics",
        "targetref",
        "suggest",
    ),
    # the catalogue of kinds: each folder's spec (plain data), found by the registries
    ("kinds",),
    # services on plain data that several stages share
    ("cache", "journal", "identity", "load"),
    ("source", "validate"),
    ("compile", "snapshot", "diff"),
    # what one kind's folder adds: its Kuma rules and its compile step, built on the shared
    # validate and compile machinery; the registries load them by name (kinds.part)
    ("kinds.*.*", "kinds.*.*.*"),
    ("report", "pipeline", "comparison", "working_tree"),
    ("serve", "agent"),
    ("action", "demo"),
    ("cli",),
    ("__main__",),
)
"""Bottom first. An entry is a module or package under ``reconciler/`` (dotted, without the
``reconciler.`` prefix, ``*`` for any one name); a module belongs to its most specific
matching entry. A new package needs a row here (``test_every_module_has_a_layer``)."""

ENVOY_PROTOS = ("envoy", "xds", "udpa", "grpc", "google.protobuf")


@dataclass(frozen=True, slots=True)
class Import:
    module: str
    """The importing module, e.g. ``reconciler.cli.diff``."""
    target: str
    line: int
    nested: bool
    """Inside a function (or under ``if TYPE_CHECKING``)."""

    def __str__(self) -> str:
        where = " (inside a function or TYPE_CHECKING)" if self.nested else ""
        return f"{self.module}:{self.line} imports {self.target}{where}"


@cache
def modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if path.name != "__init__.py":
        base.pop()
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _imports_of(module: str, path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text("utf-8"))
    nested_lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.If):
            if isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    nested_lines.add(inner.lineno)
    known = modules()
    for node in ast.walk(tree):
        nested = getattr(node, "lineno", 0) in nested_lines
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno, nested)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, path, node)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield Import(module, full if full in known else base, node.lineno, nested)


@cache
def all_imports() -> tuple[Import, ...]:
    return tuple(imp for module, path in modules().items() for imp in _imports_of(module, path))


def internal_imports() -> list[Import]:
    return [i for i in all_imports() if i.target in modules() and i.target != i.module]


def layer_of(module: str) -> tuple[int, str]:
    """(layer index, table entry) of ``reconciler.<...>``; the most specific entry wins."""
    parts = ["reconciler"] if module == "reconciler" else module.split(".")[1:]
    best: tuple[int, str] | None = None
    for index, entries in enumerate(LAYERS):
        for entry in entries:
            pattern = entry.split(".")
            matches = len(parts) >= len(pattern) and all(
                p in ("*", part) for p, part in zip(pattern, parts, strict=False)
            )
            if matches and (best is None or len(pattern) > len(best[1].split("."))):
                best = (index, entry)
    assert best is not None, f"{module} is in no layer: add it to LAYERS in {__file__}"
    return best


def test_every_module_has_a_layer() -> None:
    for module in modules():
        layer_of(module)


def test_no_module_imports_a_higher_layer() -> None:
    upward = [
        f"{imp} ({layer_of(imp.module)[1]} is below {layer_of(imp.target)[1]})"
        for imp in internal_imports()
        if layer_of(imp.target)[0] > layer_of(imp.module)[0]
    ]
    assert upward == []


def test_no_import_cycles() -> None:
    graph: dict[str, set[str]] = {m: set() for m in modules()}
    for imp in internal_imports():
        graph[imp.module].add(imp.target)
    cycles = [sorted(c) for c in _strongly_connected(graph) if len(c) > 1]
    assert cycles == []


def test_the_layer_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    """An import hidden in a function body still counts (the check must not miss it)."""
    source = "def f() -> None:\n    from reconciler.cli import main\n"
    tree_path = tmp_path / "probe.py"
    tree_path.write_text(source, "utf-8")
    found = list(_imports_of("reconciler.names", tree_path))
    assert [(i.target, i.nested) for i in found] == [("reconciler.cli.main", True)]
    assert layer_of("reconciler.cli.main")[0] > layer_of("reconciler.names")[0]


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (the graph has hundreds of modules)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                out.append(component)
    return out


def test_xds_resolves_to_the_installed_protos() -> None:
    xds = importlib.import_module("xds")
    assert xds.__file__ is None or "site-packages" in str(xds.__file__)
    assert "site-packages" in str(next(iter(xds.__path__)))
    assert not list((ROOT / "xds").rglob("*.py")), "xds/ must hold no Python"


def _violations(package: str, forbidden: tuple[str, ...]) -> list[str]:
    prefix = f"reconciler.{package}"
    return [
        str(imp)
        for imp in all_imports()
        if (imp.module == prefix or imp.module.startswith(prefix + "."))
        and any(imp.target == f or imp.target.startswith(f + ".") for f in forbidden)
    ]


def test_load_and_validate_work_on_plain_data() -> None:
    for package in ("load", "validate"):
        assert not _violations(package, ENVOY_PROTOS), package
    compiled = (*ENVOY_PROTOS, "reconciler.compile")
    kind_rules = [
        str(imp)
        for imp in all_imports()
        if imp.module.startswith("reconciler.kinds.")
        and not (imp.module.endswith(".plugin") or ".plugin." in imp.module)
        and any(imp.target == f or imp.target.startswith(f + ".") for f in compiled)
    ]
    assert kind_rules == [], (
        "only a kind's plugin (plugin.py or plugin/) compiles; its rules work on plain data"
    )


def test_serve_depends_on_snapshots_not_on_the_compiler() -> None:
    assert not _violations("serve", ("reconciler.compile",))


def test_git_is_confined_to_the_source_package() -> None:
    for path in PACKAGE.rglob("*.py"):
        if "source" in path.relative_to(PACKAGE).parts:
            continue
        text = path.read_text("utf-8")
        assert '"git",' not in text and "'git'," not in text, f"{path} runs git"
    assert not [i for i in all_imports() if i.target == "git" or i.target.startswith("git.")]
