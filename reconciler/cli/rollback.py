"""``reconciler rollback --to SHA``: serve an earlier revision and stop following.

With ``--repo URL``: on every replica. A control commit (mode ``pinned``) is pushed to the
repository's control ref; each server reads it at its next poll and serves that commit until
``reconciler resume --repo URL`` (see ``reconciler.source.control``).

With ``--state-dir`` (the default): on the local server. Writes ``pin.json`` in the state
directory and signals the running server (SIGHUP) so it applies the pin at once; without a
running server the pin applies at its next start. Only revisions from the journal
(``reconciler history``) can be pinned: they are known to be valid and their commits are
kept in the local cache, so a rollback works with the remote down. ``reconciler resume``
removes the pin. The canonical fix is still a revert in Git.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reconciler.cli.exit_codes import Exit
from reconciler.cli.fleet import add_fleet_arguments, applies, fleet_target, write
from reconciler.cli.server_state import add_state_dir, notify_server
from reconciler.errors import UsageError
from reconciler.journal import Journal, default_state_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--to",
        required=True,
        metavar="SHA",
        help="an applied commit (see `reconciler history`); with --repo any commit of the branch",
    )
    parser.add_argument("--reason", default="", help="why (shown in status and history)")
    add_state_dir(parser)
    add_fleet_arguments(parser)


def run(args: argparse.Namespace) -> int:
    target = fleet_target(args)
    if target is not None:
        written = write(target, "pinned", args, args.to)
        assert written.revision is not None
        sys.stdout.write(
            f"every replica pinned to {written.revision[:12]}; following is suspended until "
            f"`reconciler resume --repo ...`\n{applies(target, written)}"
        )
        return Exit.OK
    state_dir = args.state_dir or default_state_dir()
    sys.stdout.write(rollback(state_dir, args.to, reason=args.reason))
    return Exit.OK


def rollback(state_dir: Path, sha: str, *, reason: str = "") -> str:
    journal = Journal(state_dir)
    entry = journal.find(sha)
    if entry is None:
        known = ", ".join(dict.fromkeys(e.sha[:12] for e in reversed(journal.entries()))) or "none"
        raise UsageError(
            f"{sha!r} is not a unique applied revision in {state_dir} (applied: {known})",
            hint="pick one from `reconciler history`",
        )
    journal.set_pin(entry.sha, reason)
    told = notify_server(journal)
    return (
        f"pinned to {entry.sha[:12]} ({entry.message or 'no message'}); following is suspended "
        f"until `reconciler resume`\n{told}"
    )
