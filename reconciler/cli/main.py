"""``reconciler`` entry point: argument parsing, the subcommand registry, one error handler."""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
import traceback
from collections.abc import Sequence
from types import ModuleType

from reconciler import __version__
from reconciler.cli.exit_codes import Exit
from reconciler.errors import ReconcilerError, UsageError

COMMANDS: dict[str, str] = {
    "validate": "reconciler.cli.validate",
    "schema": "reconciler.cli.schema",
    "explain-code": "reconciler.cli.explain_code",
    "render": "reconciler.cli.render",
    "inspect": "reconciler.cli.inspect",
    "diff": "reconciler.cli.diff",
    "token": "reconciler.cli.token",
    "serve": "reconciler.cli.serve",
    "status": "reconciler.cli.status",
    "bootstrap": "reconciler.cli.bootstrap",
    "history": "reconciler.cli.history",
    "rollback": "reconciler.cli.rollback",
    "resume": "reconciler.cli.resume",
}
"""Subcommand -> module. Each module defines NAME, HELP, add_arguments(parser) and
run(args) -> int. Modules are imported only when needed, so `reconciler validate` never pays
for the gRPC server's imports."""


LONG_RUNNING = frozenset({"serve"})
"""Commands that keep running: they keep Python's cyclic garbage collector on."""


def _modules(argv: Sequence[str]) -> list[ModuleType]:
    chosen = next((a for a in argv if a in COMMANDS), None)
    names = [COMMANDS[chosen]] if chosen else list(COMMANDS.values())
    return [importlib.import_module(name) for name in names]


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reconciler",
        description="GitOps control plane for an Envoy service mesh (Kuma 2.14 universal YAML).",
    )
    parser.add_argument("--version", action="version", version=f"reconciler {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in _modules(argv):
        p = sub.add_parser(command.NAME, help=command.HELP, description=command.HELP)
        p.add_argument(
            "--debug",
            action="store_true",
            default=argparse.SUPPRESS,
            help="show tracebacks of internal errors",
        )
        command.add_arguments(p)
        p.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return Exit.USAGE
    collect = gc.isenabled()
    if args.command not in LONG_RUNNING:
        # A one-shot command builds its objects once and exits: scanning them for cycles
        # only costs time (about a third of a cold `validate`).
        gc.disable()
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return Exit.INTERRUPTED
    except UsageError as exc:
        print(f"reconciler: error: {exc}", file=sys.stderr)
        return Exit.USAGE
    except ReconcilerError as exc:
        print(f"reconciler: error: {exc}", file=sys.stderr)
        if getattr(args, "debug", False):
            traceback.print_exc()
        return Exit.USAGE
    except BrokenPipeError:
        return Exit.OK
    except Exception:
        if getattr(args, "debug", False):
            traceback.print_exc()
        else:
            exc_type, exc_value, _ = sys.exc_info()
            print(
                f"reconciler: internal error: {exc_type.__name__ if exc_type else 'error'}: "
                f"{exc_value}\nThis is a bug; please report it with the output of the same "
                "command run with --debug.",
                file=sys.stderr,
            )
        return Exit.INTERNAL
    finally:
        if collect:
            gc.enable()


def entrypoint() -> None:
    sys.exit(main())
