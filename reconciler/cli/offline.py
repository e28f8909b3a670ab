"""Where the offline commands (``get``, ``inspect policy``) read a revision: directories, or
a commit of a local repository read from git objects (``--repo DIR --rev REV [--path SUBDIR]``,
as ``diff`` does), and how they name a kind."""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.errors import UsageError
from reconciler.kinds import CATALOG
from reconciler.pipeline import Analysis, analyze, analyze_paths, read_commit


@dataclass(frozen=True, slots=True)
class Revision:
    paths: tuple[str, ...] = (".",)
    repo: str | None = None
    rev: str | None = None
    subpath: str | None = None


def add_revision_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repo", metavar="DIR", help="read a commit of this git repository")
    parser.add_argument("--rev", metavar="REV", help="the commit (with --repo; default HEAD)")
    parser.add_argument(
        "--path", dest="subpath", metavar="SUBDIR", help="resources under SUBDIR (with --repo)"
    )


def revision_of(args: argparse.Namespace, paths: Sequence[str]) -> Revision:
    if args.repo is None and (args.rev or args.subpath):
        raise UsageError("--rev and --path need --repo DIR")
    if args.repo is not None and list(paths) not in ([], ["."]):
        raise UsageError("give either PATH or --repo, not both")
    return Revision(tuple(paths) or (".",), args.repo, args.rev, args.subpath)


def read(revision: Revision) -> Analysis:
    """Load and validate the revision (a usage error if it cannot be read)."""
    if revision.repo is None:
        return analyze_paths(revision.paths)
    side = read_commit(revision.repo, revision.rev or "HEAD", revision.subpath)
    return analyze(side.files, extra=side.read_diagnostics)


def resolve_kind(text: str) -> str:
    """``MeshTimeout``, ``meshtimeout`` or ``meshtimeouts`` (kumactl style) -> ``MeshTimeout``."""
    lowered = text.lower()
    for kind in CATALOG:
        name = kind.lower()
        if lowered in (name, name + "s", name + "es"):
            return kind
    names = list(CATALOG)
    close = difflib.get_close_matches(text, names, n=1, cutoff=0.5)
    hint = f"did you mean {close[0]}? " if close else ""
    raise UsageError(f"unknown kind {text!r}", hint=f"{hint}kinds: {', '.join(names)}")
