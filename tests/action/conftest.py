"""A sample pull request: an origin repository with a base and a head commit, and a shallow
checkout of the head (as actions/checkout makes it), so the action must fetch the base."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fake_github_api import FakeGitHub

ROOT = Path(__file__).resolve().parents[2]
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return proc.stdout.strip()


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
