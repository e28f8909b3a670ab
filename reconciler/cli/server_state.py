"""What ``history``, ``rollback`` and ``resume`` share: the server's state directory, and
telling the running server (SIGHUP) to re-read it."""

from __future__ import annotations

import argparse
import os
import signal
from pathlib import Path

from reconciler.journal import Journal, default_state_dir


def add_state_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"the server's state directory (default: {default_state_dir()})",
    )


def notify_server(journal: Journal) -> str:
    """SIGHUP the server recorded in the state dir, if it is a running `reconciler serve`."""
    pid = journal.server_pid()
    if pid is None or not _is_reconciler(pid):
        return "no running server found for this state directory: applies at its next start\n"
    try:
        os.kill(pid, signal.SIGHUP)
    except OSError as exc:
        return f"could not signal server pid {pid} ({exc.strerror}): applies at its next poll\n"
    return f"server pid {pid} signalled: applies now\n"


def _is_reconciler(pid: int) -> bool:
    """Guards against a stale pid file naming an unrelated, recycled process."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(b"reconciler" in part for part in cmdline) and b"serve" in cmdline
