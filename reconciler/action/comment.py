"""``python -m reconciler.action comment``: one sticky PR comment, created once, then updated.

The comment is found by a hidden marker among the PR's issue comments and PATCHed; it is
never duplicated. Needs ``pull-requests: write``; a fork PR's read-only token gets a notice
and no comment. Talks to ``GITHUB_API_URL`` with the standard library only.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from reconciler.action.summary import COMMENT_MARKER

MAX_PAGES = 30
"""100 comments a page: a PR with more than 3,000 comments gets a new sticky comment."""
TIMEOUT_S = 15.0


class CommentError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class GitHubApi:
    api_url: str
    repository: str
    token: str

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            f"{self.api_url.rstrip('/')}{path}",
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "Content-Type": "application/json",
                "User-Agent": "reconciler-action",
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            exc.close()  # the error carries the open response
            raise CommentError(exc.code, f"{method} {path}: HTTP {exc.code} {exc.reason}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise CommentError(0, f"{method} {path}: {exc}") from exc
        return json.loads(raw) if raw else None


def find_sticky(api: GitHubApi, number: int) -> int | None:
    for page in range(1, MAX_PAGES + 1):
        comments = api.request(
            "GET", f"/repos/{api.repository}/issues/{number}/comments?per_page=100&page={page}"
        )
        if not isinstance(comments, list):
            return None
        for item in comments:
            if isinstance(item, dict) and COMMENT_MARKER in str(item.get("body", "")):
                return int(item["id"])
        if len(comments) < 100:
            return None
    return None


def upsert(api: GitHubApi, number: int, body: str) -> tuple[str, int]:
    """``("created"|"updated", comment id)``."""
    existing = find_sticky(api, number)
    if existing is not None:
        api.request("PATCH", f"/repos/{api.repository}/issues/comments/{existing}", {"body": body})
        return "updated", existing
    created = api.request(
        "POST", f"/repos/{api.repository}/issues/{number}/comments", {"body": body}
    )
    return "created", int(created["id"])
