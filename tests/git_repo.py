"""Hermetic git for tests: a pinned identity and no user or system configuration.

Shared by every test that makes repositories (``pythonpath = ["tests"]`` in pyproject), so
the environment that keeps them reproducible is written once.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

GIT_ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "HOME": "/nonexistent",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Ann Author",
    "GIT_AUTHOR_EMAIL": "ann@example.test",
    "GIT_COMMITTER_NAME": "Ann Author",
    "GIT_COMMITTER_EMAIL": "ann@example.test",
    "LC_ALL": "C",
}
PINNED_DATES = {
    "GIT_AUTHOR_DATE": "2026-01-02T03:04:05Z",
    "GIT_COMMITTER_DATE": "2026-01-02T03:04:05Z",
}
"""Add these for commit ids that are the same on every run."""


def git(
    cwd: Path, *args: str, env: dict[str, str] | None = None, input_text: str | None = None
) -> str:
    """Run git in ``cwd`` with the hermetic environment (``input_text`` on stdin); its
    stdout, stripped."""
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=env or GIT_ENV,
        input=input_text,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()


class Repo:
    """A work-tree repository on branch ``main``."""

    def __init__(self, path: Path, *, pinned_dates: bool = False) -> None:
        self.path = path
        self.env = {**GIT_ENV, **PINNED_DATES} if pinned_dates else GIT_ENV
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        return git(self.path, *args, env=self.env)

    def write(self, rel: str, text: str) -> None:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def commit(self, message: str = "change", files: dict[str, str | None] | None = None) -> str:
        """Write (or, for None, delete) ``files``, commit everything; the new commit id."""
        for rel, text in (files or {}).items():
            if text is None:
                (self.path / rel).unlink()
            else:
                self.write(rel, text)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")
