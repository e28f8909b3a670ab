"""``reconciler pause``: stop applying new commits, keep serving the current revision.

With ``--repo URL``: every replica is paused at the branch's head now (or ``--at SHA``): a
control commit of mode ``paused`` names that commit, so replicas that had not reached it yet
catch up and none goes further, and all serve the same revision. Without ``--repo``: the
local server is pinned to the revision it applied last (its journal), as ``rollback`` pins.
``reconciler resume`` (with the same ``--repo`` or ``--state-dir``) ends the pause.
"""

from __future__ import annotations

import argparse
import sys

from reconciler.cli.exit_codes import Exit
from reconciler.cli.fleet import add_fleet_arguments, applies, fleet_target, write
from reconciler.cli.server_state import add_state_dir, notify_server
from reconciler.errors import UsageError
from reconciler.journal import Journal, default_state_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reason", default="", help="why (shown in status and history)")
    parser.add_argument(
        "--at",
        metavar="SHA",
        default=None,
        help="with --repo: the commit to hold (default: the branch head now)",
    )
    add_state_dir(parser)
    add_fleet_arguments(parser)


def run(args: argparse.Namespace) -> int:
    target = fleet_target(args)
    if target is not None:
        written = write(target, "paused", args, args.at)
        assert written.revision is not None
        sys.stdout.write(
            f"every replica paused at {written.revision[:12]}; no newer commit is applied until "
            f"`reconciler resume --repo ...`\n{applies(target, written)}"
        )
        return Exit.OK
    if args.at is not None:
        raise UsageError("--at needs --repo", hint="locally, `reconciler rollback --to SHA`")
    journal = Journal(args.state_dir or default_state_dir())
    last = journal.last()
    if last is None:
        raise UsageError(f"no applied revision recorded in {journal.dir}: nothing to pause at")
    journal.set_pin(last.sha, f"paused: {args.reason}" if args.reason else "paused")
    sys.stdout.write(
        f"paused at {last.sha[:12]}; `reconciler resume` follows the branch again\n"
        + notify_server(journal)
    )
    return Exit.OK
