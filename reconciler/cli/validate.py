"""``reconciler validate [PATH ...]``: every problem in a mesh repository, at once."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from reconciler.cli.colour import write
from reconciler.cli.exit_codes import Exit
from reconciler.cli.options import add_input_arguments, cache_dir_of
from reconciler.diagnostics import FAIL_ON, fails
from reconciler.errors import UsageError
from reconciler.load import DEFAULT_MAX_FILE_SIZE, SourceFile
from reconciler.report.diagnostics import FORMATS, RENDERERS
from reconciler.working_tree import Verdict, check_tree


@dataclass(frozen=True, slots=True)
class ValidateOptions:
    paths: tuple[str, ...]
    format: str = "text"
    fail_on: str = "error"
    cache_dir: Path | None = None
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    allow_empty: bool = False
    """Exit 0 when no file was found (otherwise a usage error: a wrong path stays green)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        default=["."],
        metavar="PATH",
        help="files or directories to validate (default: .); `-` reads one stream of YAML "
        "documents from standard input",
    )
    parser.add_argument(
        "-o", "--format", choices=FORMATS, default="text", help="output format (default: text)"
    )
    parser.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default="error",
        help="lowest severity that makes the exit code 1 (default: error)",
    )
    parser.add_argument(
        "--allow-empty",
        action="store_true",
        help="succeed when PATH holds no *.yaml, *.yml or *.json file (default: exit 2)",
    )
    add_input_arguments(parser)


def run(args: argparse.Namespace) -> int:
    options = ValidateOptions(
        paths=tuple(args.paths),
        format=args.format,
        fail_on=args.fail_on,
        cache_dir=cache_dir_of(args),
        max_file_size=args.max_file_size,
        allow_empty=args.allow_empty,
    )
    output, code = validate(options)
    write(sys.stdout, output, plain=options.format != "text")
    return code


def validate(options: ValidateOptions) -> tuple[str, int]:
    """The report text and the exit code, without printing (tests call this directly)."""
    if "-" in options.paths:
        if len(options.paths) > 1:
            raise UsageError("`-` (standard input) cannot be combined with other paths")
        from reconciler.pipeline import analyze  # parses: a warm run may need no parser

        stdin = SourceFile(STDIN, read_stdin())
        analysis = Verdict.of(analyze([stdin], max_file_size=options.max_file_size))
    else:
        analysis = check_tree(
            options.paths, cache_dir=options.cache_dir, max_file_size=options.max_file_size
        )
    if analysis.files == 0 and not options.allow_empty:
        raise UsageError(
            f"no *.yaml, *.yml or *.json file in {' '.join(options.paths)}: nothing to validate",
            hint="check the path (hidden files and directories are skipped), "
            "or pass --allow-empty if an empty repository is expected",
        )
    render = RENDERERS[options.format]
    output = render(list(analysis.diagnostics), files=analysis.files, resources=analysis.resources)
    return output, Exit.FINDINGS if fails(analysis.diagnostics, options.fail_on) else Exit.OK


STDIN = "<stdin>"
"""The file name diagnostics give to ``validate -``'s input."""


def read_stdin() -> bytes:
    """All of standard input: one stream of YAML (or JSON) documents."""
    return sys.stdin.buffer.read()
