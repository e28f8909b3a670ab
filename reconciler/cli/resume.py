"""``reconciler resume``: remove a rollback pin; the server follows its branch again."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reconciler.cli.exit_codes import Exit
from reconciler.cli.server_state import add_state_dir, notify_server
from reconciler.journal import Journal, default_state_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_state_dir(parser)


def run(args: argparse.Namespace) -> int:
    sys.stdout.write(resume(args.state_dir or default_state_dir()))
    return Exit.OK


def resume(state_dir: Path) -> str:
    journal = Journal(state_dir)
    pin = journal.pin()
    if not journal.clear_pin():
        return f"not pinned: the server in {state_dir} already follows its branch\n"
    was = f" (was pinned to {pin.sha[:12]})" if pin else ""
    return f"following the branch again{was}\n{notify_server(journal)}"
