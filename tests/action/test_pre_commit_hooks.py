"""``.pre-commit-hooks.yaml``: well-formed for pre-commit, and its entries are real commands."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from reconciler.cli.main import main

HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
REQUIRED = {"id", "name", "entry", "language"}
KNOWN = REQUIRED | {
    "description",
    "files",
    "exclude",
    "types",
    "types_or",
    "exclude_types",
    "pass_filenames",
    "require_serial",
    "minimum_pre_commit_version",
    "args",
    "always_run",
    "stages",
    "verbose",
}


def test_manifest_shape() -> None:
    assert isinstance(HOOKS, list) and HOOKS
    ids = [h["id"] for h in HOOKS]
    assert len(ids) == len(set(ids))
    for hook in HOOKS:
        assert REQUIRED <= hook.keys() <= KNOWN, hook
        assert hook["language"] == "python"
        re.compile(hook["files"])
        assert re.search(hook["files"], "mesh/policies/timeouts.yaml")
        assert not re.search(hook["files"], "README.md")


@pytest.mark.parametrize("hook", HOOKS, ids=lambda h: h["id"])
def test_entry_runs_the_cli_like_pre_commit_would(
    hook: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    program, *args = shlex.split(hook["entry"])
    assert program == "reconciler"
    shutil.copytree(ROOT / "sample-repo", tmp_path / "mesh")
    monkeypatch.chdir(tmp_path)
    assert main([*args, "--no-cache", "mesh"]) == 0
    (tmp_path / "mesh/bad.yaml").write_text("type: Mesh\nname: x\nmtls: 3\n")
    assert main([*args, "--no-cache", "mesh"]) == 1
    assert "mesh/bad.yaml:3" in capsys.readouterr().out
