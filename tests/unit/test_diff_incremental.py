"""The diff's incremental compile (new side in full, old side only where the change reaches)
gives the same change set as compiling both sides from scratch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.comparison import compare
from reconciler.compile.compiler import Compiler
from reconciler.diff import diff_proxies
from reconciler.load import SourceFile
from reconciler.pipeline import Side, analyze, compile_analysis

ROOT = Path(__file__).resolve().parents[2]


def sample() -> dict[str, bytes]:
    base = ROOT / "sample-repo"
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in sorted(base.rglob("*.yaml"))}


def edit(path: str, old: str, new: str) -> Callable[[dict[str, bytes]], None]:
    def apply(files: dict[str, bytes]) -> None:
        text = files[path].decode()
        assert old in text, (path, old)
        files[path] = text.replace(old, new, 1).encode()

    return apply


def drop(path: str) -> Callable[[dict[str, bytes]], None]:
    return lambda files: files.pop(path)


CHANGES = {
    "policy value": edit("policies/timeouts.yaml", "requestTimeout: 2s", "requestTimeout: 5s"),
    "dataplane port": edit("dataplanes/payments.yaml", "servicePort: ", "servicePort: 1"),
    "route weights": edit("policies/routes.yaml", "weight: 90", "weight: 80"),
    "deleted policies": drop("policies/retries.yaml"),
    "mesh": edit("mesh.yaml", "name: default", "name: default\nlabels: {team: mesh}"),
}


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_incremental_equals_full(name: str) -> None:
    before = sample()
    after = dict(before)
    CHANGES[name](after)
    old_files = tuple(SourceFile(p, d) for p, d in before.items())
    new_files = tuple(SourceFile(p, d) for p, d in after.items())
    comparison = compare(Side("old", old_files), Side("new", new_files))

    old = compile_analysis(analyze(old_files), Compiler()).configs
    new = compile_analysis(analyze(new_files), Compiler()).configs
    full_changes, full_unchanged = diff_proxies(old, new)
    assert comparison.changes.proxies == tuple(full_changes)
    assert comparison.changes.unchanged_proxies == tuple(full_unchanged)
    if name != "mesh":
        assert comparison.changes.proxies, "the change must reach at least one proxy"
