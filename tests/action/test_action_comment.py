"""The sticky comment against the fake GitHub API, without the harness."""

from __future__ import annotations

import pytest
from fake_github_api import FakeGitHub

from reconciler.action.comment import CommentError, GitHubApi, upsert
from reconciler.action.summary import COMMENT_MARKER


def test_sticky_comment_found_on_a_later_page(fake_github: FakeGitHub) -> None:
    for i in range(130):
        fake_github.add_comment(5, f"comment {i}")
    sticky = fake_github.add_comment(5, f"{COMMENT_MARKER}\nold report")
    for i in range(20):
        fake_github.add_comment(5, f"later {i}")
    api = GitHubApi(fake_github.url, "acme/mesh", "test-token")
    assert upsert(api, 5, f"{COMMENT_MARKER}\nnew report") == ("updated", sticky)
    bodies = [c["body"] for c in fake_github.comments[5]]
    assert bodies.count(f"{COMMENT_MARKER}\nnew report") == 1 and len(bodies) == 151
    gets = [path for method, path in fake_github.requests if method == "GET"]
    assert gets == [
        "/repos/acme/mesh/issues/5/comments?per_page=100&page=1",
        "/repos/acme/mesh/issues/5/comments?per_page=100&page=2",
    ]


def test_bad_token_is_a_comment_error_with_status(fake_github: FakeGitHub) -> None:
    api = GitHubApi(fake_github.url, "acme/mesh", "wrong")
    with pytest.raises(CommentError) as info:
        upsert(api, 5, "body")
    assert info.value.status == 401


def test_unreachable_api_is_a_comment_error(fake_github: FakeGitHub) -> None:
    url = fake_github.url
    fake_github.stop()
    with pytest.raises(CommentError) as info:
        upsert(GitHubApi(url, "acme/mesh", "test-token"), 5, "body")
    assert info.value.status == 0
