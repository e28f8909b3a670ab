"""The runner's environment files: step outputs (``GITHUB_OUTPUT``) and the step summary."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

SUMMARY_LIMIT_BYTES = 1024 * 1024
"""GitHub refuses a step summary over 1 MiB ("supports content up to a size of 1024k")."""


def set_output(name: str, value: str, *, path: str | None = None) -> None:
    """Append ``name`` to ``GITHUB_OUTPUT`` in the heredoc form (safe for any value)."""
    target = path or os.environ.get("GITHUB_OUTPUT")
    if not target:
        return
    delimiter = f"ghadelimiter_{uuid.uuid4()}"
    while delimiter in value:  # practically never; the runner would reject the output
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
    with open(target, "a", encoding="utf-8") as out:
        out.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def append_summary(markdown: str, *, path: str | None = None) -> None:
    target = path or os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    with open(target, "a", encoding="utf-8") as out:
        out.write(markdown)


def output_dir() -> Path:
    """Where report files go: ``$RUNNER_TEMP/reconciler`` (a temp dir outside the runner)."""
    base = os.environ.get("RUNNER_TEMP") or os.environ.get("TMPDIR") or "/tmp"
    path = Path(base, "reconciler")
    path.mkdir(parents=True, exist_ok=True)
    return path
