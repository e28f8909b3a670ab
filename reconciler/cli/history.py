"""``reconciler history``: the revisions a server applied, newest first (its journal)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from reconciler.cli.exit_codes import Exit
from reconciler.cli.server_state import add_state_dir
from reconciler.journal import Journal, default_state_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_state_dir(parser)
    parser.add_argument("--json", action="store_true", help="print the journal as JSON")


def run(args: argparse.Namespace) -> int:
    sys.stdout.write(history(args.state_dir or default_state_dir(), as_json=args.json))
    return Exit.OK


def history(state_dir: Path, *, as_json: bool = False) -> str:
    journal = Journal(state_dir)
    entries = list(reversed(journal.entries()))
    pin = journal.pin()
    if as_json:
        payload = {
            "pinned": pin.sha if pin else None,
            "entries": [e.to_json() for e in entries],
        }
        return json.dumps(payload, indent=2) + "\n"
    if not entries:
        return f"no applied revisions recorded in {state_dir}\n"
    rows = [["", "COMMIT", "APPLIED (UTC)", "CHANGED", "AUTHOR", "MESSAGE", "TRIGGERED BY"]]
    for i, e in enumerate(entries):
        mark = "P" if pin and pin.sha == e.sha else ("*" if i == 0 and not pin else "")
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(e.time))
        rows.append(
            [mark, e.sha[:12], when, str(len(e.proxies)), e.author, e.message[:40], e.trigger[:90]]
        )
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]
    if pin:
        lines.append(
            f"P = pinned by `reconciler rollback` ({pin.reason or 'no reason given'}); "
            "`reconciler resume` follows the branch again"
        )
    else:
        lines.append("* = serving now")
    lines.append(
        "CHANGED = proxies whose configuration the revision changed; a commit applied again "
        "(a rollback, a resume) has a line for each time, with what triggered it"
    )
    return "\n".join(lines) + "\n"
