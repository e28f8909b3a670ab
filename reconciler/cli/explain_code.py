"""``reconciler explain-code CODE``: what a diagnostic code means and what to do about it."""

from __future__ import annotations

import argparse

from reconciler.cli.exit_codes import Exit
from reconciler.codes import CODES, explain


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("code", nargs="?", help="a code such as RC201")
    parser.add_argument("--list", action="store_true", help="list every code with its title")


def run(args: argparse.Namespace) -> int:
    if args.list or not args.code:
        for info in sorted(CODES.values(), key=lambda i: i.code):
            print(f"{info.code}  {info.severity:<7}  {info.title}")
        return Exit.OK
    text = explain(args.code)
    if text is None:
        print(
            f"reconciler: error: unknown code {args.code!r}; `reconciler explain-code --list` lists them"
        )
        return Exit.USAGE
    print(text)
    return Exit.OK
