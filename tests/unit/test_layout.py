"""The architecture stays visible: package boundaries and the xds name collision."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "reconciler"


def test_xds_resolves_to_the_installed_protos() -> None:
    xds = importlib.import_module("xds")
    assert xds.__file__ is None or "site-packages" in str(xds.__file__)
    assert "site-packages" in str(next(iter(xds.__path__)))
    assert not list((ROOT / "xds").rglob("*.py")), "xds/ must hold no Python"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _package_imports(package: str) -> dict[Path, set[str]]:
    base = PACKAGE / package
    files = [base] if base.suffix == ".py" else sorted(base.rglob("*.py"))
    return {f: _imports(f) for f in files}


def _violations(package: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path, names in _package_imports(package).items():
        for name in names:
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def test_load_and_validate_work_on_plain_data() -> None:
    for package in ("load", "validate"):
        assert not _violations(
            package,
            (
                "envoy",
                "xds",
                "udpa",
                "grpc",
                "reconciler.compile",
                "reconciler.serve",
                "reconciler.cli",
            ),
        ), package


def test_bottom_layer_imports_no_stage() -> None:
    stages = tuple(
        f"reconciler.{s}"
        for s in ("source", "load", "validate", "compile", "snapshot", "diff", "serve", "cli")
    )
    for module in (
        "model.py",
        "diagnostics.py",
        "codes.py",
        "errors.py",
        "targetref.py",
        "resource_types.py",
    ):
        assert not _violations(module, stages), module


def test_serve_depends_on_snapshots_not_on_the_compiler() -> None:
    if (PACKAGE / "serve").exists():
        assert not _violations("serve", ("reconciler.compile", "reconciler.cli"))


def test_no_stage_imports_the_cli() -> None:
    for package in ("source", "load", "validate", "compile", "snapshot", "diff", "serve"):
        if (PACKAGE / package).exists():
            assert not _violations(package, ("reconciler.cli",)), package


def test_git_is_confined_to_the_source_package() -> None:
    for path in PACKAGE.rglob("*.py"):
        if "source" in path.relative_to(PACKAGE).parts:
            continue
        names = _imports(path)
        assert "git" not in names and not any(n.startswith("git.") for n in names), path
        text = path.read_text("utf-8")
        assert '"git",' not in text and "'git'," not in text, f"{path} runs git"
