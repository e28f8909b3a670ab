"""``reconciler schema KIND``: print the JSON Schema of a kind (for editors and other tools).

``reconciler schema --all`` prints one schema for every kind, dispatching on ``type``: the
one to point an editor's yaml-language-server at (see ``docs/editor-setup.md``).
"""

from __future__ import annotations

import argparse
import sys

from reconciler.cli.exit_codes import Exit
from reconciler.kinds import CATALOG
from reconciler.validate.schema_files import combined_schema_text, schema_text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", nargs="?", help="a kind such as MeshTimeout")
    parser.add_argument("--list", action="store_true", help="list the kinds")
    parser.add_argument(
        "--all",
        action="store_true",
        help="one schema for a document of any kind (dispatches on `type`), for editors",
    )


def run(args: argparse.Namespace) -> int:
    if args.all:
        if args.kind:
            print("reconciler: error: give a KIND or --all, not both", file=sys.stderr)
            return Exit.USAGE
        sys.stdout.write(combined_schema_text(list(CATALOG)))
        return Exit.OK
    if args.list or not args.kind:
        _print_list()
        return Exit.OK
    kinds = {name.lower(): name for name in CATALOG}
    kind = kinds.get(args.kind.lower())
    if kind is None:
        print(
            f"reconciler: error: unknown kind {args.kind!r}; `reconciler schema --list` lists them",
            file=sys.stderr,
        )
        return Exit.USAGE
    sys.stdout.write(schema_text(kind))
    return Exit.OK


def _print_list() -> None:
    """Every kind: its category, whether the compiler applies it, and what it is."""
    rows = [("KIND", "CATEGORY", "APPLIED", "WHAT")]
    for spec in CATALOG.values():
        applied = "yes" if spec.applied else "no (warning)"
        rows.append((spec.name, spec.category.value, applied, spec.summary))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3])
