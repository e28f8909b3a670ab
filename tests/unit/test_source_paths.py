"""One rule for file paths in diagnostics: relative to the repository root, as GitHub
annotations need, whether the revision comes from git (with or without ``--path``), from a
plain directory served by ``serve``, or from ``diff --repo --path``."""

from __future__ import annotations

import shutil
from pathlib import Path

from git_repo import Repo

from reconciler.pipeline import read_commit
from reconciler.source.choose import open_source

BROKEN = "type: Mesh\nname: default\nbogus: 1\n"


def test_every_source_names_files_from_the_repository_root(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    repo.commit("mesh", {"mesh/mesh.yaml": BROKEN, "README.md": "x"})
    plain = tmp_path / "plain"
    shutil.copytree(repo.path, plain, ignore=shutil.ignore_patterns(".git"))
    state = tmp_path / "state"
    seen = {
        "git --path": open_source(str(repo.path), state_dir=state, subpath="mesh"),
        "git": open_source(str(repo.path), state_dir=state),
        "directory --path": open_source(str(plain), state_dir=state, subpath="mesh"),
        "directory": open_source(str(plain), state_dir=state),
        "watch --path": open_source(str(repo.path), state_dir=state, subpath="mesh", watch=True),
    }
    for what, source in seen.items():
        assert [f.path for f in source.fetch().files] == ["mesh/mesh.yaml"], what
    assert [f.path for f in read_commit(str(repo.path), "HEAD", "mesh").files] == ["mesh/mesh.yaml"]
