"""A warm `validate` does not read files whose size, mtime and inode match the last run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler import working_tree
from reconciler.cache import INDEX, FileCache
from reconciler.working_tree import check_tree

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

DATAPLANE = """\
type: Dataplane
name: web-1
mesh: default
networking:
  address: 10.0.0.1
  inbound:
    - port: 8080
      tags: {kuma.io/service: web}
"""


def _write(path: Path, text: str, *, age_s: float) -> None:
    path.write_text(text)
    old = path.stat().st_mtime - age_s
    os.utime(path, (old, old))


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = working_tree.read_files

    def spy(found, **kwargs):  # type: ignore[no-untyped-def]
        found = list(found)
        seen.extend(display for display, _ in found)
        return real(found, **kwargs)

    monkeypatch.setattr(working_tree, "read_files", spy)
    return seen


def _trees(cache: Path) -> list[Path]:
    return sorted(cache.glob("tree-*.marshal"))


def test_unchanged_old_files_are_not_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, cache = tmp_path / "repo", tmp_path / "cache"
    repo.mkdir()
    _write(repo / "mesh.yaml", "type: Mesh\nname: default\n", age_s=60)
    _write(repo / "a.yaml", POLICY.format(name="a", timeout="1s"), age_s=60)
    _write(repo / "b.yaml", POLICY.format(name="b", timeout="2s"), age_s=60)
    first = check_tree([repo], cache_dir=cache)
    assert not [d for d in first.diagnostics if d.severity == "error"]
    [tree] = _trees(cache)
    os.utime(tree)  # the state is written after the files: not racy
    _write(repo / "b.yaml", POLICY.format(name="b", timeout="2 seconds"), age_s=0)
    seen = _reads(monkeypatch)
    second = check_tree([repo], cache_dir=cache)
    assert [Path(p).name for p in seen] == ["b.yaml"]
    assert [d.code for d in second.diagnostics if d.severity == "error"] == ["RC305"]
    assert (second.files, second.resources) == (3, 3)


def test_a_file_changed_right_after_the_cache_was_written_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Timestamps are coarser than edits: a recent file is re-read even if its stat matches."""
    repo, cache = tmp_path / "repo", tmp_path / "cache"
    repo.mkdir()
    (repo / "mesh.yaml").write_text("type: Mesh\nname: default\n")
    check_tree([repo], cache_dir=cache)
    seen = _reads(monkeypatch)
    check_tree([repo], cache_dir=cache)
    assert [Path(p).name for p in seen] == ["mesh.yaml"]


def test_entries_are_read_one_by_one_when_used(tmp_path: Path) -> None:
    """A run reads the index only; an entry is read from the pack and decoded when used,
    and entries kept without being read stay in the next index as they were."""
    import marshal

    repo, cache_dir = tmp_path / "repo", tmp_path / "cache"
    repo.mkdir()
    _write(repo / "mesh.yaml", "type: Mesh\nname: default\n", age_s=60)
    _write(repo / "a.yaml", POLICY.format(name="a", timeout="1s"), age_s=60)
    first = check_tree([repo], cache_dir=cache_dir)
    (_, pack, before) = marshal.loads((cache_dir / INDEX).read_bytes())
    assert len(before) == 2 and (cache_dir / pack).exists()
    cache = FileCache(cache_dir)
    assert cache._entries == {}  # nothing read yet
    digest, other = sorted(before)
    hit = cache.get(digest)
    assert hit is not None and set(cache._entries) == {digest}
    cache.keep([other])
    cache.put("0" * 40, hit)  # one new entry: appended to the pack
    cache.save()
    (_, pack_after, after) = marshal.loads((cache_dir / INDEX).read_bytes())
    assert pack_after == pack and {d: after[d] for d in before} == before
    assert "0" * 40 in after and FileCache(cache_dir).get("0" * 40) == hit
    again = check_tree([repo], cache_dir=cache_dir)
    assert again == first


def test_dropped_entries_are_compacted_away(tmp_path: Path) -> None:
    repo, cache_dir = tmp_path / "repo", tmp_path / "cache"
    repo.mkdir()
    for n in range(4):
        _write(repo / f"p{n}.yaml", POLICY.format(name=f"p{n}", timeout="1s"), age_s=60)
    check_tree([repo], cache_dir=cache_dir)
    for round_ in range(6):  # every file changes: the old entries are dropped
        for n in range(4):
            _write(repo / f"p{n}.yaml", POLICY.format(name=f"p{n}", timeout=f"{round_}s"), age_s=60)
        check_tree([repo], cache_dir=cache_dir)
    [pack] = cache_dir.glob("*.pack")
    cache = FileCache(cache_dir)
    assert len(cache._located) == 4
    assert pack.stat().st_size <= 2 * sum(length for _, length in cache._located.values())


def test_a_damaged_cache_entry_is_a_miss(tmp_path: Path) -> None:
    repo, cache_dir = tmp_path / "repo", tmp_path / "cache"
    repo.mkdir()
    _write(repo / "mesh.yaml", "type: Mesh\nname: default\n", age_s=60)
    _write(repo / "dp.yaml", DATAPLANE, age_s=60)
    _write(repo / "a.yaml", POLICY.format(name="a", timeout="1s"), age_s=60)
    first = check_tree([repo], cache_dir=cache_dir)
    [pack] = cache_dir.glob("*.pack")
    pack.write_bytes(b"\0" * pack.stat().st_size)
    assert all(FileCache(cache_dir).get(d) is None for d in FileCache(cache_dir)._located)
    _write(repo / "a.yaml", POLICY.format(name="a", timeout="2s"), age_s=60)
    # the changed policy selects proxies: the Dataplane's entry is needed, and gone
    again = check_tree([repo], cache_dir=cache_dir)
    assert again.diagnostics == first.diagnostics and again.resources == 3


def test_a_damaged_tree_state_is_ignored(tmp_path: Path) -> None:
    repo, cache_dir = tmp_path / "repo", tmp_path / "cache"
    repo.mkdir()
    _write(repo / "a.yaml", POLICY.format(name="a", timeout="1s"), age_s=60)
    first = check_tree([repo], cache_dir=cache_dir)
    [tree] = _trees(cache_dir)
    tree.write_bytes(tree.read_bytes()[:-20])
    assert check_tree([repo], cache_dir=cache_dir) == first
