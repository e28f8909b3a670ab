"""Which source ``reconciler serve REPO`` uses."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from reconciler.source.choose import is_git_repository, open_source
from reconciler.source.directory import DirectorySource
from reconciler.source.git import GitSource
from reconciler.source.git_errors import UnsafeSourceError

ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_CONFIG_GLOBAL": os.devnull}


def test_urls_are_git(tmp_path: Path) -> None:
    for url in ("https://git.example.test/mesh.git", "git@git.example.test:t/mesh.git"):
        source = open_source(url, state_dir=tmp_path, branch="prod", subpath="mesh")
        assert isinstance(source, GitSource)
        assert (source.branch, source.subpath) == ("prod", "mesh")


def test_repository_directories_are_git_unless_watched(tmp_path: Path) -> None:
    work = tmp_path / "work"
    subprocess.run(["git", "init", "-q", str(work)], check=True, env=ENV)
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True, env=ENV)
    assert is_git_repository(work) and is_git_repository(bare)
    assert isinstance(open_source(str(work), state_dir=tmp_path / "s"), GitSource)
    assert isinstance(open_source(str(bare), state_dir=tmp_path / "s"), GitSource)
    watched = open_source(str(work), state_dir=tmp_path / "s", watch=True, subpath="mesh")
    assert isinstance(watched, DirectorySource)
    assert watched.paths == [work / "mesh"]


def test_plain_directories_are_files(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    assert not is_git_repository(tmp_path / "sub")
    source = open_source(str(tmp_path / "sub"), state_dir=tmp_path / "s")
    assert isinstance(source, DirectorySource)


def test_hostile_input_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnsafeSourceError):
        open_source("ext::sh -c id", state_dir=tmp_path)
    with pytest.raises(UnsafeSourceError):
        open_source(str(tmp_path), state_dir=tmp_path, subpath="../etc")
    with pytest.raises(UnsafeSourceError):
        open_source("https://git.example.test/m.git", state_dir=tmp_path, branch="--upload-pack=x")
