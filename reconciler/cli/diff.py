"""``reconciler diff OLD NEW`` or ``reconciler diff --repo DIR --base REV --head REV``.

Prints what changes between two revisions: source resources, then per affected proxy the
Envoy resources with field-level diffs. Exit 0 no changes, 1 changes, 2 invalid input.
When the new revision has errors, its diagnostics come first, then the diff its valid
resources would produce (marked partial, naming what was left out), and the exit code is 2.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from reconciler.cli.colour import write
from reconciler.cli.diff_live import live_side
from reconciler.cli.exit_codes import Exit
from reconciler.cli.options import add_input_arguments, cache_dir_of, parse_size
from reconciler.comparison import Comparison, Live, compare
from reconciler.errors import UsageError
from reconciler.load import DEFAULT_MAX_FILE_SIZE
from reconciler.pipeline import Side, read_commit, read_directory
from reconciler.report import diff_json, diff_markdown, diff_text
from reconciler.report.diff_markdown import DEFAULT_MAX_CHARS

FORMATS = ("text", "json", "markdown")


@dataclass(frozen=True, slots=True)
class DiffOptions:
    old: str | None = None
    new: str | None = None
    repo: str | None = None
    base: str | None = None
    head: str | None = None
    path: str | None = None
    format: str = "text"
    max_size: int = DEFAULT_MAX_CHARS
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    cache_dir: Path | None = None
    server: str | None = None
    """Compare with what a running server's connected proxies run (``--server URL``)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", nargs="?", metavar="OLD", help="directory of the old revision")
    parser.add_argument("new", nargs="?", metavar="NEW", help="directory of the new revision")
    parser.add_argument("--repo", metavar="DIR", help="a git repository: compare two commits")
    parser.add_argument("--base", metavar="REV", help="old commit (with --repo)")
    parser.add_argument("--head", metavar="REV", help="new commit (with --repo; default HEAD)")
    parser.add_argument("--path", metavar="SUBDIR", help="resources under SUBDIR (with --repo)")
    parser.add_argument("-o", "--format", choices=FORMATS, default="text", help="default: text")
    parser.add_argument(
        "--max-size",
        type=parse_size,
        default=DEFAULT_MAX_CHARS,
        metavar="CHARS",
        help=f"markdown: largest output, in characters (default: {DEFAULT_MAX_CHARS})",
    )
    add_input_arguments(parser)
    parser.add_argument(
        "--server",
        metavar="URL|HOST:PORT",
        help="compare PATH (or --repo --head REV) with what each proxy connected to this "
        "running server runs now",
    )


def run(args: argparse.Namespace) -> int:
    options = DiffOptions(
        old=args.old,
        new=args.new,
        repo=args.repo,
        base=args.base,
        head=args.head,
        path=args.path,
        format=args.format,
        max_size=args.max_size,
        max_file_size=args.max_file_size,
        cache_dir=cache_dir_of(args),
        server=args.server,
    )
    output, code = diff(options)
    write(sys.stdout, output, plain=options.format != "text")
    return code


def diff(options: DiffOptions) -> tuple[str, int]:
    """The report and the exit code, without printing (tests call this directly)."""
    base, head = read_sides(options)
    comparison = compare(
        base, head, max_file_size=options.max_file_size, cache_dir=options.cache_dir
    )
    return render(comparison, options.format, max_size=options.max_size), exit_code(comparison)


def render(comparison: Comparison, fmt: str, *, max_size: int = DEFAULT_MAX_CHARS) -> str:
    diags = comparison.diagnostics
    if fmt == "json":
        return diff_json.as_json(comparison.changes, diags)
    if fmt == "markdown":
        return diff_markdown.as_markdown(comparison.changes, diags, max_chars=max_size)
    return diff_text.as_text(comparison.changes, diags)


def read_sides(options: DiffOptions) -> tuple[Side | Live, Side]:
    if options.server is not None:
        return _live_sides(options, options.server)
    if options.repo is not None:
        if options.old or options.new:
            raise UsageError("give either OLD NEW directories or --repo, not both")
        if not options.base:
            raise UsageError("--repo needs --base REV", hint="e.g. --base origin/main")
        head = options.head or "HEAD"
        return (
            read_commit(options.repo, options.base, options.path),
            read_commit(options.repo, head, options.path),
        )
    if options.base or options.head or options.path:
        raise UsageError("--base, --head and --path need --repo DIR")
    if not (options.old and options.new):
        raise UsageError("give two directories OLD NEW, or --repo DIR --base REV [--head REV]")
    return (
        read_directory(options.old, options.max_file_size),
        read_directory(options.new, options.max_file_size),
    )


def _live_sides(options: DiffOptions, server: str) -> tuple[Live, Side]:
    """``diff PATH --server URL`` or ``diff --repo DIR [--head REV] --server URL``."""
    if options.repo is not None:
        if options.old or options.new or options.base:
            raise UsageError("with --server and --repo give only --head REV (default HEAD)")
        head = read_commit(options.repo, options.head or "HEAD", options.path)
    else:
        if not options.old or options.new or options.base or options.head or options.path:
            raise UsageError("with --server give one PATH (or --repo DIR [--head REV])")
        head = read_directory(options.old, options.max_file_size)
    return live_side(server), head


def exit_code(comparison: Comparison) -> int:
    """0 no change, 1 changes, 2 the new revision is invalid (its diagnostics say why)."""
    if comparison.invalid:
        return Exit.USAGE
    return Exit.FINDINGS if comparison.changes.changed else Exit.OK
