"""The options ``rollback``, ``pause`` and ``resume`` share to act on a whole fleet.

With ``--repo URL``, the command commits the fleet control to the configuration repository
(``reconciler.source.control``): every ``reconciler serve`` following that branch obeys it at
its next poll, whichever host it runs on, and keeps obeying it across restarts. Without it,
the command acts on the server of one local ``--state-dir`` (pin file + SIGHUP).
"""

from __future__ import annotations

import argparse
import getpass
import os
import socket

from reconciler.errors import UsageError
from reconciler.source.control import check_control_ref, default_control_ref
from reconciler.source.control_git import ControlTarget, Written, write_control


def add_fleet_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "every replica (fleet control in the configuration repository)"
    )
    group.add_argument(
        "--repo",
        metavar="URL",
        help="the repository the servers follow: act on every replica through its control ref "
        "instead of on the local --state-dir",
    )
    group.add_argument(
        "--branch", default="main", help="the branch the servers follow (default: main)"
    )
    group.add_argument(
        "--control-ref",
        default="",
        metavar="REF",
        help=f"the control ref (default: {default_control_ref('BRANCH')}, as `serve`)",
    )
    group.add_argument(
        "--author",
        default=None,
        metavar="'NAME <EMAIL>'",
        help="who asks, recorded as the control commit's author and in every replica's history "
        "(default: $GIT_AUTHOR_NAME <$GIT_AUTHOR_EMAIL>, else user@host)",
    )


def fleet_target(args: argparse.Namespace) -> ControlTarget | None:
    """The fleet's control when ``--repo`` is given (UsageError if --state-dir is too)."""
    if args.repo is None:
        return None
    if args.state_dir is not None:
        raise UsageError(
            "--repo and --state-dir are exclusive",
            hint="--repo acts on every replica, --state-dir on the local server only",
        )
    ref = check_control_ref(args.control_ref or default_control_ref(args.branch))
    return ControlTarget(repo=args.repo, branch=args.branch, ref=ref)


def author(args: argparse.Namespace) -> str:
    if args.author:
        return str(args.author)
    name, email = os.environ.get("GIT_AUTHOR_NAME"), os.environ.get("GIT_AUTHOR_EMAIL")
    if name and email:
        return f"{name} <{email}>"
    user = getpass.getuser()
    return f"{name or user} <{email or f'{user}@{socket.gethostname()}'}>"


def write(
    target: ControlTarget, mode: str, args: argparse.Namespace, revision: str | None = None
) -> Written:
    return write_control(target, mode, revision=revision, reason=args.reason, author=author(args))


def applies(target: ControlTarget, written: Written) -> str:
    """What the operator should expect after a control commit."""
    return (
        f"control commit {written.commit[:12]} pushed to {target.ref}: every server following "
        f"{target.branch!r} applies it at its next poll (a push webhook or SIGHUP: at once); "
        "`reconciler status --server ...` shows it per replica\n"
    )
