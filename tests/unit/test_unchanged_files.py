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


def test_entries_read_are_written_back_as_read_and_decoded_only_when_used(
    tmp_path: Path,
) -> None:
    """A warm run decodes only the entries it uses, and writes the others' bytes back as
    they were read (no decode and re-encode of a whole cache for one changed file)."""
    import marshal

    from reconciler.cache import FileCache

    repo, cache_dir = tmp_path / "repo", tmp_path / "cache"
    repo.mkdir()
    _write(repo / "mesh.yaml", "type: Mesh\nname: default\n", age_s=60)
    _write(repo / "a.yaml", POLICY.format(name="a", timeout="1s"), age_s=60)
    first = analyze_paths([repo], cache_dir=cache_dir)
    (_, before, _) = marshal.loads((cache_dir / "analysis.marshal").read_bytes())
    cache = FileCache(cache_dir)
    assert cache._entries == {} and set(cache._raw) == set(before)  # nothing decoded yet
    digest = next(iter(before))
    hit = cache.get(digest)
    assert hit is not None and set(cache._entries) == {digest}
    for other in before:
        cache.get(other)
    cache.put("0" * 40, hit)  # one new entry: the file is written again
    cache.save()
    (_, after, _) = marshal.loads((cache_dir / "analysis.marshal").read_bytes())
    assert {d: after[d] for d in before} == before and "0" * 40 in after
    again = analyze_paths([repo], cache_dir=cache_dir)
    assert again.diagnostics == first.diagnostics
    assert [r.data for r in again.resources] == [r.data for r in first.resources]


def test_a_damaged_cache_entry_is_a_miss(tmp_path: Path) -> None:
    import marshal

    from reconciler.cache import FileCache

    repo, cache_dir = tmp_path / "repo", tmp_path / "cache"
    repo.mkdir()
    _write(repo / "mesh.yaml", "type: Mesh\nname: default\n", age_s=60)
    first = analyze_paths([repo], cache_dir=cache_dir)
    path = cache_dir / "analysis.marshal"
    header, entries, stats = marshal.loads(path.read_bytes())
    entries = {digest: ("not", "an entry") for digest in entries}
    path.write_bytes(marshal.dumps((header, entries, stats)))
    assert all(FileCache(cache_dir).get(digest) is None for digest in entries)
    again = analyze_paths([repo], cache_dir=cache_dir)
    assert again.diagnostics == first.diagnostics and len(again.resources) == 1
