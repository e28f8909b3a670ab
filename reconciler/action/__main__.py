"""``python -m reconciler.action base|check|comment`` (the steps of action.yml)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from reconciler.action.event import load_event, pull_request, resolve_base
from reconciler.action.inputs import read_inputs
from reconciler.action.runner_files import set_output
from reconciler.errors import ReconcilerError


def _base() -> int:
    base = resolve_base(os.environ.get("RECONCILER_BASE_REF", ""), load_event())
    set_output("rev", base.rev if base else "")
    set_output("refspec", base.refspec if base else "")
    print(f"base commit: {base.rev}" if base else "no base commit: the diff will be skipped")
    return 0


def _check() -> int:
    from reconciler.action.check import check

    workspace = Path(os.environ.get("GITHUB_WORKSPACE") or os.getcwd())
    os.chdir(workspace)
    result = check(read_inputs(), workspace=workspace)
    errors, warnings = result.outputs["errors"], result.outputs["warnings"]
    print(
        f"reconciler: {errors} errors, {warnings} warnings, "
        f"{result.outputs['changed-proxies']} proxies changed"
    )
    return 0


def _comment() -> int:
    from reconciler.action.comment import CommentError, GitHubApi, upsert

    pr = pull_request(load_event())
    if pr.number is None:
        print("::notice title=reconciler::not a pull request: no comment posted")
        return 0
    if pr.from_fork:
        print(
            "::notice title=reconciler::pull request from a fork: its token is read-only, "
            "so no comment is posted (the job summary has the full report)"
        )
        return 0
    token = os.environ.get("RECONCILER_TOKEN", "")
    repository = os.environ.get("GITHUB_REPOSITORY", "")
    if not token or not repository:
        print("::warning title=reconciler::no token or repository: no comment posted")
        return 0
    body = Path(os.environ["RECONCILER_COMMENT_FILE"]).read_text("utf-8")
    api = GitHubApi(os.environ.get("GITHUB_API_URL", "https://api.github.com"), repository, token)
    try:
        action, comment_id = upsert(api, pr.number, body)
    except CommentError as exc:
        if exc.status in (401, 403, 404):
            print(
                "::notice title=reconciler::the token cannot write PR comments "
                f"({exc}); grant `pull-requests: write` to the job"
            )
        else:
            print(f"::warning title=reconciler::PR comment not posted: {exc}")
        return 0
    print(f"PR comment {comment_id} {action}")
    set_output("comment-id", str(comment_id))
    return 0


COMMANDS = {"base": _base, "check": _check, "comment": _comment}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reconciler.action")
    parser.add_argument("command", choices=sorted(COMMANDS))
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command]()
    except ReconcilerError as exc:
        print(f"::error title=reconciler::{_escape(str(exc))}")
        return 2
    except Exception as exc:
        print(
            f"::error title=reconciler::internal error: {_escape(repr(exc))}; this is a bug, "
            "please report it with the step log"
        )
        raise


def _escape(message: str) -> str:
    return message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


if __name__ == "__main__":
    sys.exit(main())
