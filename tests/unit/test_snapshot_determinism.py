"""Versions are a pure function of the compiled content: the same in every process.

Protobuf maps (``Struct`` fields, ``typed_per_filter_config``, metadata) have no defined
serialization order unless serialized deterministically, and a message packed into an
``Any`` is serialized at ``Pack`` time: one ``Pack`` without ``deterministic=True`` makes the
bytes (and so the version) of every resource containing it differ from process to process.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "reconciler"

VERSIONS_SCRIPT = """
import json, sys
from reconciler.pipeline import analyze_paths, compile_analysis
from reconciler.snapshot import Interner, build_snapshots
analysis = analyze_paths([sys.argv[1]])
snapshots, problems = build_snapshots(compile_analysis(analysis).configs, Interner())
assert not problems, problems
json.dump(
    {node: {t.short: s.version(t) for t in s.types} for node, s in snapshots.items()},
    sys.stdout,
    sort_keys=True,
)
"""


def pack_calls_without_determinism() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "Pack"
            ):
                deterministic = [
                    k
                    for k in node.keywords
                    if k.arg == "deterministic"
                    and isinstance(k.value, ast.Constant)
                    and k.value.value is True
                ]
                if not deterministic:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_any_is_packed_deterministically() -> None:
    assert pack_calls_without_determinism() == [], (
        "pass deterministic=True to Any.Pack: map fields inside would be serialized in a "
        "process-dependent order and versions would differ between restarts and replicas"
    )


def test_the_guard_sees_a_pack_call() -> None:
    """The scan above finds calls (it would pass vacuously if the pattern were wrong)."""
    sources = "\n".join(p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py"))
    assert sources.count(".Pack(") >= 10


@pytest.mark.slow
def test_sample_repository_versions_are_equal_in_separate_processes() -> None:
    """Three interpreters with different hash seeds give every proxy the same versions."""
    runs = []
    for seed in ("1", "2", "3"):
        result = subprocess.run(
            [sys.executable, "-c", VERSIONS_SCRIPT, str(ROOT / "sample-repo")],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        runs.append(json.loads(result.stdout))
    first = runs[0]
    assert len(first) == 8 and all(len(types) == 5 for types in first.values())
    for other in runs[1:]:
        assert other == first
