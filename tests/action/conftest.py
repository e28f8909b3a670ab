"""A sample pull request: an origin repository with a base and a head commit, and a shallow
checkout of the head (as actions/checkout makes it), so the action must fetch the base."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fake_github_api import FakeGitHub
from git_repo import GIT_ENV, PINNED_DATES
from git_repo import git as hermetic_git

ROOT = Path(__file__).resolve().parents[2]


def git(cwd: Path, *args: str) -> str:
    """Hermetic git with pinned dates: the sample PR has the same commit ids on every run."""
    return hermetic_git(cwd, *args, env={**GIT_ENV, **PINNED_DATES})


@dataclass
class SamplePR:
    origin: Path
    workspace: Path
    runner_temp: Path
    base_sha: str
    head_sha: str
    event: dict[str, Any]


PRChange = Callable[[Path], None]


def make_pr(
    tmp_path: Path, change: PRChange, *, base_extra: PRChange | None = None, fork: bool = False
) -> SamplePR:
    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "main")
    shutil.copytree(ROOT / "sample-repo", origin / "mesh", ignore=shutil.ignore_patterns("*.md"))
    (origin / "README.md").write_text("mesh repository\n")
    if base_extra is not None:
        base_extra(origin)
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "base")
    base_sha = git(origin, "rev-parse", "HEAD")
    git(origin, "checkout", "-q", "-b", "feature")
    change(origin)
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "head")
    head_sha = git(origin, "rev-parse", "HEAD")
    workspace = tmp_path / "workspace"
    git(
        tmp_path,
        "clone",
        "-q",
        "--depth",
        "1",
        "--branch",
        "feature",
        origin.as_uri(),
        str(workspace),
    )
    head_repo = "someone/mesh" if fork else "acme/mesh"
    event = {
        "action": "synchronize",
        "number": 7,
        "pull_request": {
            "number": 7,
            "base": {"ref": "main", "sha": base_sha, "repo": {"full_name": "acme/mesh"}},
            "head": {"ref": "feature", "sha": head_sha, "repo": {"full_name": head_repo}},
        },
        "repository": {"full_name": "acme/mesh"},
    }
    return SamplePR(origin, workspace, tmp_path / "runner-temp", base_sha, head_sha, event)


def longer_payments_timeout(repo: Path) -> None:
    path = repo / "mesh/policies/timeouts.yaml"
    path.write_text(path.read_text().replace("requestTimeout: 2s", "requestTimeout: 5s"))


BAD_POLICY = """\
type: MeshTimeout
name: broken
mesh: default
spec:
  targetRef:
    kind: Mesh
  to:
    - targetRef:
        kind: MeshServce
        name: payments
      default:
        connectionTimeout: 2 seconds
"""


def add_broken_policy(repo: Path) -> None:
    (repo / "mesh/policies/broken.yaml").write_text(BAD_POLICY)


@pytest.fixture
def action_env() -> dict[str, str]:
    """The install step uses this interpreter (which has reconciler) instead of pip."""
    return {"RECONCILER_ACTION_PYTHON": sys.executable}


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub().start()
    try:
        yield fake
    finally:
        fake.stop()
