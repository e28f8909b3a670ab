"""``reconciler resume``: end a rollback or pause; the server follows its branch again.

With ``--repo URL``: every replica (a control commit of mode ``following``); otherwise the
local server's pin file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reconciler.cli.exit_codes import Exit
from reconciler.cli.fleet import add_fleet_arguments, applies, fleet_target, write
from reconciler.cli.server_state import add_state_dir, notify_server
from reconciler.journal import Journal, default_state_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reason", default="", help="why (with --repo: shown in history)")
    add_state_dir(parser)
    add_fleet_arguments(parser)


def run(args: argparse.Namespace) -> int:
    target = fleet_target(args)
    if target is not None:
        written = write(target, "following", args)
        sys.stdout.write(
            f"every replica follows {target.branch!r} again\n{applies(target, written)}"
        )
        return Exit.OK
    sys.stdout.write(resume(args.state_dir or default_state_dir()))
    return Exit.OK


def resume(state_dir: Path) -> str:
    journal = Journal(state_dir)
    pin = journal.pin()
    if not journal.clear_pin():
        return f"not pinned: the server in {state_dir} already follows its branch\n"
    was = f" (was pinned to {pin.sha[:12]})" if pin else ""
    return f"following the branch again{was}\n{notify_server(journal)}"
