"""A warm `validate` does not read files whose size, mtime and inode match the last run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler import pipeline
from reconciler.pipeline import analyze_paths

POLICY = """\
type: MeshTimeout
name: {name}
mesh: default
spec:
  targetRef: {{kind: Mesh}}
  to:
    - targetRef: {{kind: Mesh}}
      default: {{connectionTimeout: {timeout}}}
"""


def _write(path: Path, text: str, *, age_s: float) -> None:
    path.write_text(text)
    old = path.stat().st_mtime - age_s
    os.utime(path, (old, old))


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = pipeline.read_files

    def spy(found, **kwargs):  # type: ignore[no-untyped-def]
        found = list(found)
        seen.extend(display for display, _ in found)
        return real(found, **kwargs)

    monkeypatch.setattr(pipeline, "read_files", spy)
    return seen


def test_unchanged_old_files_are_not_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, cache = tmp_path / "repo", tmp_path / "cache"
    repo.mkdir()
    _write(repo / "mesh.yaml", "type: Mesh\nname: default\n", age_s=60)
    _write(repo / "a.yaml", POLICY.format(name="a", timeout="1s"), age_s=60)
    _write(repo / "b.yaml", POLICY.format(name="b", timeout="2s"), age_s=60)
    first = analyze_paths([repo], cache_dir=cache)
    assert not [d for d in first.diagnostics if d.severity == "error"]
    os.utime(cache / "analysis.marshal")  # the cache is written after the files: not racy
    _write(repo / "b.yaml", POLICY.format(name="b", timeout="2 seconds"), age_s=0)
    seen = _reads(monkeypatch)
    second = analyze_paths([repo], cache_dir=cache)
    assert [Path(p).name for p in seen] == ["b.yaml"]
    assert [d.code for d in second.diagnostics if d.severity == "error"] == ["RC305"]
    assert {r.name for r in second.resources} == {"default", "a", "b"}


def test_a_file_changed_right_after_the_cache_was_written_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Timestamps are coarser than edits: a recent file is re-read even if its stat matches."""
    repo, cache = tmp_path / "repo", tmp_path / "cache"
    repo.mkdir()
    (repo / "mesh.yaml").write_text("type: Mesh\nname: default\n")
    analyze_paths([repo], cache_dir=cache)
    seen = _reads(monkeypatch)
    analyze_paths([repo], cache_dir=cache)
    assert [Path(p).name for p in seen] == ["mesh.yaml"]
