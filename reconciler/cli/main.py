"""``reconciler`` entry point: argument parsing, the subcommand registry, one error handler."""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType

from reconciler import __version__
from reconciler.cli.exit_codes import Exit
from reconciler.errors import ReconcilerError, UsageError


@dataclass(frozen=True, slots=True)
class Command:
    help: str
    module: str
    """The module defining ``add_arguments(parser) -> None`` and ``run(args) -> int``."""


COMMANDS: dict[str, Command] = {
    "validate": Command(
        "validate mesh resources (schemas, Kuma semantics, cross-resource checks)",
        "reconciler.cli.validate",
    ),
    "schema": Command(
        "print the JSON Schema of a kind; --all: one schema for every kind; --list: the kinds",
        "reconciler.cli.schema",
    ),
    "explain-code": Command(
        "explain a diagnostic code (e.g. RC201); --list prints every code",
        "reconciler.cli.explain_code",
    ),
    "render": Command(
        "render the Envoy resources (listeners, routes, clusters, endpoints) of each proxy",
        "reconciler.cli.render",
    ),
    "inspect": Command(
        "show, for each inbound, outbound and route of a proxy, the policies that set each "
        "value; or, with `policy KIND NAME`, which proxies a policy selects and what it changes "
        "on each",
        "reconciler.cli.inspect",
    ),
    "diff": Command(
        "show what changes between two revisions, per source resource and per proxy",
        "reconciler.cli.diff",
    ),
    "token": Command(
        "issue, revoke or inspect the tokens proxies present to the xDS server",
        "reconciler.cli.token",
    ),
    "serve": Command(
        "serve a mesh repository to Envoy proxies over xDS (ADS, SotW and Delta)",
        "reconciler.cli.serve",
    ),
    "status": Command(
        "show a running server's revision and every proxy's versions (sent/ACKed/NACKed)",
        "reconciler.cli.status",
    ),
    "bootstrap": Command(
        "print an Envoy bootstrap (YAML) for one proxy that connects to `reconciler serve`",
        "reconciler.cli.bootstrap",
    ),
    "history": Command(
        "list the last revisions the server applied (from its --state-dir journal)",
        "reconciler.cli.history",
    ),
    "rollback": Command(
        "pin the server (with --repo: every replica) to an earlier revision, until `resume`",
        "reconciler.cli.rollback",
    ),
    "pause": Command(
        "stop applying new commits (with --repo: on every replica) until `resume`",
        "reconciler.cli.pause",
    ),
    "resume": Command(
        "undo `reconciler rollback` or `pause` (with --repo: on every replica): follow again",
        "reconciler.cli.resume",
    ),
    "get": Command(
        "list the resources of a kind (or show one) in a directory or a commit",
        "reconciler.cli.get",
    ),
    "agent": Command(
        "run beside one Envoy: relay its MeshAccessLog Tcp lines (named pipe) to their TCP "
        "addresses, as Kuma's kuma-dp does",
        "reconciler.cli.agent",
    ),
    "completion": Command(
        "print a shell completion script (bash, zsh or fish)", "reconciler.cli.completion"
    ),
}
"""Subcommand -> its one-line help and its module. The help lives here so that `reconciler
--version`, `--help` or a mistyped command import no subcommand module at all."""


LONG_RUNNING = frozenset({"serve", "agent"})
"""Commands that keep running: they keep Python's cyclic garbage collector on."""


def load_command(name: str) -> ModuleType:
    """Import the module of subcommand ``name``: the one place a subcommand is imported.

    Start-up speed, not an import cycle, is why this is an import by name at run time: the
    subcommands' modules import the gRPC server, protobuf and the compiler (about a second),
    and only the command being run should pay for its own imports (`reconciler --version`
    imports none of them). A test checks that it stays that way.
    """
    return importlib.import_module(COMMANDS[name].module)


def build_parser(argv: Sequence[str] = (), *, every: bool = False) -> argparse.ArgumentParser:
    """The parser, with the arguments of the subcommand named in ``argv`` (if any) only, or
    of ``every`` subcommand (shell completion needs them all)."""
    parser = argparse.ArgumentParser(
        prog="reconciler",
        description="GitOps control plane for an Envoy service mesh (Kuma 2.14 universal YAML).",
    )
    parser.add_argument("--version", action="version", version=f"reconciler {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = next((a for a in argv if a in COMMANDS), None)
    for name, command in COMMANDS.items():
        p = sub.add_parser(name, help=command.help, description=command.help)
        if name != chosen and not every:
            continue
        p.add_argument(
            "--debug",
            action="store_true",
            default=argparse.SUPPRESS,
            help="show tracebacks of internal errors",
        )
        module = load_command(name)
        module.add_arguments(p)
        p.set_defaults(run=module.run, build_parser=build_parser)
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
