"""``reconciler diff OLD NEW`` or ``reconciler diff --repo DIR --base REV --head REV``.

Prints what changes between two revisions: source resources, then per affected proxy the
Envoy resources with field-level diffs. Exit 0 no changes, 1 changes, 2 invalid input.
When the new revision has errors, its diagnostics come first, then the diff its valid
resources would produce (marked partial, naming what was left out), and the exit code is 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from reconciler.cache import FileCache, default_cache_dir
from reconciler.cli.exit_codes import Exit
from reconciler.cli.options import parse_size
from reconciler.codes import PROXY_COMPILE_FAILED
from reconciler.compile import Compiler
from reconciler.compile.names import node_id
from reconciler.diagnostics import Diagnostic, Severity, sorted_diagnostics
from reconciler.diff import ChangeSet, Partial, diff_revisions
from reconciler.errors import UsageError
from reconciler.load import DEFAULT_MAX_FILE_SIZE, SourceFile
from reconciler.model import DEFAULT_MESH
from reconciler.pipeline import Analysis, analyze, compile_analysis, read_paths
from reconciler.report.diff_markdown import DEFAULT_MAX_CHARS

NAME = "diff"
HELP = "show what changes between two revisions, per source resource and per proxy"
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


@dataclass(frozen=True, slots=True)
class Side:
    """One revision's files, as read: ``label`` is a commit sha or a directory."""

    label: str
    files: tuple[SourceFile, ...]
    read_diagnostics: tuple[Diagnostic, ...] = ()


@dataclass(frozen=True, slots=True)
class Comparison:
    changes: ChangeSet
    diagnostics: tuple[Diagnostic, ...]
    """The new revision's diagnostics (every severity)."""
    new: Analysis

    @property
    def invalid(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.diagnostics)

    @property
    def exit_code(self) -> int:
        if self.invalid:
            return Exit.USAGE
        return Exit.FINDINGS if self.changes.changed else Exit.OK


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", nargs="?", metavar="OLD", help="directory of the old revision")
    parser.add_argument("new", nargs="?", metavar="NEW", help="directory of the new revision")
    parser.add_argument("--repo", metavar="DIR", help="a git repository: compare two commits")
    parser.add_argument("--base", metavar="REV", help="old commit (with --repo)")
    parser.add_argument("--head", metavar="REV", help="new commit (with --repo; default HEAD)")
    parser.add_argument("--path", metavar="SUBDIR", help="resources under SUBDIR (with --repo)")
    parser.add_argument("--format", choices=FORMATS, default="text", help="default: text")
    parser.add_argument(
        "--max-size",
        type=parse_size,
        default=DEFAULT_MAX_CHARS,
        metavar="CHARS",
        help=f"markdown: largest output, in characters (default: {DEFAULT_MAX_CHARS})",
    )
    parser.add_argument(
        "--max-file-size",
        type=parse_size,
        default=DEFAULT_MAX_FILE_SIZE,
        metavar="BYTES",
        help="largest file read, e.g. 1MiB (default: 1MiB)",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help=f"per-file result cache (default: {default_cache_dir()})",
    )
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    parser.add_argument(
        "--server",
        metavar="URL",
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
        cache_dir=None if args.no_cache else (args.cache_dir or default_cache_dir()),
        server=args.server,
    )
    output, code = diff(options)
    sys.stdout.write(output)
    return code


def diff(options: DiffOptions) -> tuple[str, int]:
    """The report and the exit code, without printing (tests call this directly)."""
    if options.server is not None:
        from reconciler.cli.diff_live import diff_against_live

        return diff_against_live(options)
    before, after = read_sides(options)
    comparison = compare(
        before, after, max_file_size=options.max_file_size, cache_dir=options.cache_dir
    )
    return render(comparison, options.format, max_size=options.max_size), comparison.exit_code


def render(comparison: Comparison, fmt: str, *, max_size: int = DEFAULT_MAX_CHARS) -> str:
    from reconciler.report import diff_json, diff_markdown, diff_text

    diags = comparison.diagnostics
    if fmt == "json":
        return diff_json.as_json(comparison.changes, diags)
    if fmt == "markdown":
        return diff_markdown.as_markdown(comparison.changes, diags, max_chars=max_size)
    return diff_text.as_text(comparison.changes, diags)


def read_sides(options: DiffOptions) -> tuple[Side, Side]:
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


def read_directory(path: str, max_file_size: int = DEFAULT_MAX_FILE_SIZE) -> Side:
    files, diags = read_paths([path], max_file_size=max_file_size)
    return Side(path, tuple(files), tuple(diags))


def read_commit(repo: str, rev: str, subpath: str | None) -> Side:
    """Files of ``rev``, with paths relative to the repository root (as a reviewer sees them)."""
    from reconciler.source.git import read_local_commit

    commit = read_local_commit(os.path.abspath(repo), rev, subpath)
    prefix = _prefix(subpath)
    files = tuple(replace(f, path=prefix + f.path) for f in commit.files)
    diags = tuple(replace(d, file=prefix + d.file) if d.file else d for d in commit.diagnostics)
    return Side(commit.sha[:12], files, diags)


def _prefix(subpath: str | None) -> str:
    clean = (subpath or "").strip("/")
    return "" if clean in ("", ".") else clean + "/"


def compare(
    before: Side,
    after: Side,
    *,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    cache_dir: Path | None = None,
) -> Comparison:
    """Analyze, compile and diff both sides. Files the two sides share are parsed and
    validated once: the per-file cache (``cache_dir``, else a temporary one) is keyed by
    blob id, so the second side reuses the first side's results."""
    with tempfile.TemporaryDirectory(prefix="reconciler-diff-") as tmp:
        directory = cache_dir if cache_dir is not None else Path(tmp)
        old = analyze(
            before.files,
            extra=before.read_diagnostics,
            max_file_size=max_file_size,
            cache=FileCache(directory),
        )
        new = analyze(
            after.files,
            extra=after.read_diagnostics,
            max_file_size=max_file_size,
            cache=FileCache(directory),
        )
    old_partial, new_partial = left_out(old), left_out(new)
    # One compiler, new side first: the new revision is compiled in full (its RC5xx
    # diagnostics are complete), the old one only where the change reaches; proxies it does
    # not reach come back as the same objects, which the diff skips without comparing.
    compiler = Compiler()
    new_compiled = compile_analysis(new, compiler)
    old_compiled = compile_analysis(old, compiler)
    old_proxies, new_proxies = dict(old_compiled.configs), dict(new_compiled.configs)
    failed = [d.resource for d in new_compiled.diagnostics if d.code == PROXY_COMPILE_FAILED]
    for key in failed:  # neither "deleted" nor compared: its new config is unknown
        if key is not None:
            old_proxies.pop(node_id(key.mesh or DEFAULT_MESH, key.name), None)
    if failed:
        left = (*(new_partial.left_out if new_partial else ()), *(k for k in failed if k))
        new_partial = Partial(
            tuple(sorted(set(left), key=str)), new_partial.files if new_partial else ()
        )
    notes: list[str] = []
    if old_partial is not None:
        notes.append(
            f"the base revision {before.label} has errors of its own; "
            f"{len(old_partial.left_out)} of its resources were left out of the comparison"
        )
    diagnostics = tuple(sorted_diagnostics((*new.diagnostics, *new_compiled.diagnostics)))
    changes = diff_revisions(
        sources=(old.resources, new.resources),
        proxies=(old_proxies, new_proxies),
        partial=new_partial,
        base=before.label,
        head=after.label,
        notes=notes,
    )
    return Comparison(changes, diagnostics, new)


def left_out(analysis: Analysis) -> Partial | None:
    """What compile leaves out of ``analysis`` because of an error (None when nothing)."""
    errors = [d for d in analysis.diagnostics if d.severity is Severity.ERROR]
    if not errors:
        return None
    bad_keys = {d.resource for d in errors if d.resource is not None}
    files = sorted({d.file for d in errors if d.resource is None and d.file})
    keys = sorted({r.key for r in analysis.resources} & bad_keys, key=str)
    return Partial(tuple(keys), tuple(files))
