"""Incremental compiles equal full compiles, whatever changed (every policy kind, Dataplanes).

A generated mesh (``bench/generate_mesh.py``, small) is edited step by step on disk; after each
step the same :class:`Compiler` recompiles incrementally and its output must be byte-identical
to a fresh full compile of that revision, while recompiling fewer proxies when it can.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.compile.compiler import Compiler, CompileResult
from reconciler.pipeline import analyze_paths
from reconciler.resource_types import TypeUrl

ROOT = Path(__file__).resolve().parents[2]


def _generate(root: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "generate_mesh", ROOT / "bench" / "generate_mesh.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.generate(root, dataplanes=40, services=10, policies=44)


def _dump(result: CompileResult) -> dict[str, list[tuple[str, bytes]]]:
    return {
        node: [
            (t.value, m.SerializeToString(deterministic=True))
            for t in TypeUrl
            for m in config.of(t)
        ]
        for node, config in result.configs.items()
    }


def _edit(path: Path, change: Any) -> None:
    doc = yaml.safe_load(path.read_text())
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def _edit_all(root: Path, kind: str) -> None:
    """Every policy of ``kind`` now targets the whole mesh, with different values."""

    def change(doc: dict[str, Any]) -> None:
        target = {"kind": "Mesh", "proxyTypes": ["Sidecar"]}
        doc["spec"] = {**_bump_numbers(doc["spec"]), "targetRef": target}

    for path in sorted((root / "policies" / kind.lower()).glob("*.yaml")):
        _edit(path, change)


def _first(root: Path, kind: str) -> Path:
    return sorted((root / "policies" / kind.lower()).glob("*.yaml"))[0]


def _bump_numbers(node: Any) -> Any:
    """Change every integer and duration in a policy so its effective conf differs."""
    if isinstance(node, dict):
        return {k: (v if k in ("targetRef", "port") else _bump_numbers(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_bump_numbers(v) for v in node]
    if isinstance(node, bool):
        return node
    if isinstance(node, int):
        return node + 1 if node < 100 else node - 1
    if isinstance(node, str) and node[:-1].isdigit() and node[-1] in "sm":
        return f"{int(node[:-1]) + 1}{node[-1]}"
    return node


KINDS = [
    "MeshTimeout",
    "MeshRetry",
    "MeshHTTPRoute",
    "MeshTCPRoute",
    "MeshCircuitBreaker",
    "MeshHealthCheck",
    "MeshLoadBalancingStrategy",
    "MeshFaultInjection",
    "MeshRateLimit",
    "MeshAccessLog",
    "MeshTrafficPermission",
]


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mesh")
    _generate(root)
    return root


def test_incremental_equals_full_after_every_kind_of_edit(mesh: Path) -> None:
    compiler = Compiler()
    first = compiler.compile(analyze_paths([mesh]).resources)
    total = len(first.configs)
    narrowed = 0
    changed = 0
    steps: list[tuple[str, Any]] = [(kind, lambda k=kind: _edit_all(mesh, k)) for kind in KINDS]
    dataplanes = sorted((mesh / "dataplanes").rglob("*.yaml"))
    steps.append(
        (
            "move a Dataplane",
            lambda: _edit(dataplanes[0], lambda d: d["networking"].update(address="127.9.9.9")),
        )
    )
    steps.append(("delete a policy", lambda: _first(mesh, "MeshRetry").unlink()))
    steps.append(("delete a Dataplane", lambda: dataplanes[1].unlink()))
    previous_dump = _dump(first)
    for label, step in steps:
        step()
        analysis = analyze_paths([mesh])
        assert not [d for d in analysis.diagnostics if d.severity == "error"], label
        incremental = compiler.compile(analysis.resources)
        full = Compiler().compile(analysis.resources)
        assert _dump(incremental) == _dump(full), label
        narrowed += len(incremental.compiled) < len(full.configs)
        changed += _dump(full) != previous_dump
        previous_dump = _dump(full)
    assert total == 40
    assert changed >= len(steps) - 2, "the edits must change the compiled output"
    assert narrowed >= len(steps) // 2, "most edits should recompile only some proxies"
