"""``reconciler schema KIND``: print the JSON Schema of a kind (for editors and other tools)."""

from __future__ import annotations

import argparse
import sys

from reconciler.cli.exit_codes import Exit
from reconciler.model import Kind
from reconciler.validate.schema_files import schema_text

NAME = "schema"
HELP = "print the JSON Schema of a kind; --list prints the kinds"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", nargs="?", help="a kind such as MeshTimeout")
    parser.add_argument("--list", action="store_true", help="list the kinds")


def run(args: argparse.Namespace) -> int:
    if args.list or not args.kind:
        for kind in Kind:
            print(kind.value)
        return Exit.OK
    kinds = {k.value.lower(): k.value for k in Kind}
    kind = kinds.get(args.kind.lower())
    if kind is None:
        print(
            f"reconciler: error: unknown kind {args.kind!r}; `reconciler schema --list` lists them",
            file=sys.stderr,
        )
        return Exit.USAGE
    sys.stdout.write(schema_text(kind))
    return Exit.OK
