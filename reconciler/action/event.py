"""What the action needs from the event payload (``GITHUB_EVENT_PATH``) and the repository."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any

from reconciler.errors import UsageError

_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_BRANCH = re.compile(r"^[A-Za-z0-9._/-]+$")


@dataclass(frozen=True, slots=True)
class PullRequest:
    number: int | None
    base_sha: str | None
    base_ref: str | None
    head_repo: str | None
    base_repo: str | None

    @property
    def from_fork(self) -> bool:
        return bool(self.head_repo and self.base_repo and self.head_repo != self.base_repo)


def load_event(path: str | None = None) -> dict[str, Any]:
    path = path or os.environ.get("GITHUB_EVENT_PATH")
    if not path or not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    return data if isinstance(data, dict) else {}


def pull_request(event: dict[str, Any]) -> PullRequest:
    pr = event.get("pull_request") or {}
    base = pr.get("base") or {}
    head = pr.get("head") or {}
    return PullRequest(
        number=pr.get("number") if isinstance(pr.get("number"), int) else None,
        base_sha=base.get("sha"),
        base_ref=base.get("ref"),
        head_repo=(head.get("repo") or {}).get("full_name"),
        base_repo=(base.get("repo") or {}).get("full_name")
        or (event.get("repository") or {}).get("full_name"),
    )


@dataclass(frozen=True, slots=True)
class BaseCommit:
    """``rev`` to read from git, and the ``refspec`` that fetches it from origin if missing."""

    rev: str
    refspec: str


def resolve_base(base_ref: str, event: dict[str, Any]) -> BaseCommit | None:
    """The base to diff against: the ``base-ref`` input (a commit SHA or a branch of origin),
    else the pull request's base commit from the event payload; None outside a PR."""
    value = base_ref.strip()
    if not value:
        sha = pull_request(event).base_sha
        if not sha:
            return None
        value = sha
    if _SHA.match(value):
        return BaseCommit(rev=value, refspec=value)
    if value.startswith("-") or ".." in value or not _BRANCH.match(value):
        raise UsageError(
            f"base-ref {value!r} is neither a commit SHA nor a branch name",
            hint="give a 40-character SHA or a branch of origin such as main",
        )
    branch = value.removeprefix("refs/heads/")
    return BaseCommit(
        rev=f"refs/remotes/origin/{branch}",
        refspec=f"+refs/heads/{branch}:refs/remotes/origin/{branch}",
    )
