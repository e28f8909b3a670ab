"""``python -m reconciler.action check``: validate the PR's tree and diff it against the base."""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from reconciler.action import annotate, summary
from reconciler.action.changed_lines import changed_lines
from reconciler.action.event import load_event, resolve_base
from reconciler.action.inputs import ActionInputs
from reconciler.action.runner_files import append_summary, output_dir, set_output
from reconciler.cache import default_cache_dir
from reconciler.comparison import Comparison, compare
from reconciler.diagnostics import Diagnostic, count, fails
from reconciler.diff import ChangeSet
from reconciler.errors import SourceError, UsageError
from reconciler.pipeline import Side, read_commit, read_directory
from reconciler.report import diagnostics as report_diagnostics
from reconciler.report import diff_json, diff_text


@dataclass(frozen=True, slots=True)
class CheckResult:
    diagnostics: tuple[Diagnostic, ...]
    changes: ChangeSet | None
    failed: bool
    outputs: dict[str, str]


def subpath_of(path: str, workspace: Path) -> str:
    rel = os.path.relpath(Path(path).resolve(), workspace.resolve())
    if rel == ".." or rel.startswith("../") or os.path.isabs(rel):
        raise UsageError(f"input path {path!r} is outside the workspace {workspace}")
    return "" if rel == "." else rel


def check(inputs: ActionInputs, *, workspace: Path, out: TextIO = sys.stdout) -> CheckResult:
    """Everything the check step does; the process's cwd must be ``workspace``."""
    subpath = subpath_of(inputs.path, workspace)
    event = load_event()
    head_sha = ((event.get("pull_request") or {}).get("head") or {}).get("sha")
    head = replace(read_directory(inputs.path), label=str(head_sha)[:12] if head_sha else "HEAD")
    base_commit = resolve_base(inputs.base_ref, event)
    base: Side | None = None
    base_note = ""
    if base_commit is None:
        base_note = "No base commit (not a pull request and no `base-ref`): diff skipped."
    else:
        try:
            base = read_commit(str(workspace), base_commit.rev, subpath or None)
        except SourceError as exc:
            base_note = f"Diff skipped: the base commit cannot be read ({exc})."
    comparison: Comparison = compare(
        base or Side("(none)", ()),
        head,
        cache_dir=default_cache_dir(),
        reached_only=inputs.compile == "reached",
    )
    changes = comparison.changes if base is not None else None
    if base is not None and comparison.scope is not None:
        base_note = comparison.scope.note() + " Set the `compile` input to `all` for every proxy."
    diags = comparison.diagnostics
    analysis = comparison.new
    changed = changed_lines(base.files if base else (), head.files) if base else {}

    chosen = annotate.select(diags, changed, per_severity=inputs.max_annotations)
    for line in chosen.commands():
        out.write(line + "\n")
    _echo_untrusted(out, diff_text.as_text(changes) if changes is not None else "")

    files, resources = len(head.files) + len(head.read_diagnostics), len(analysis.resources)
    append_summary(
        summary.summary(diags, changes, files=files, resources=resources, base_note=base_note)
    )
    directory = output_dir()
    report_file = directory / "report.json"
    report_file.write_text(
        report_diagnostics.as_json(list(diags), files=files, resources=resources), "utf-8"
    )
    diff_file = directory / "diff.json"
    if changes is not None:
        diff_file.write_text(diff_json.as_json(changes, diags), "utf-8")
    comment_file = directory / "comment.md"
    comment_file.write_text(
        summary.comment(diags, changes, files=files, resources=resources, base_note=base_note),
        "utf-8",
    )
    if inputs.sarif_file:
        sarif = report_diagnostics.as_sarif(list(diags), files=files, resources=resources)
        Path(inputs.sarif_file).write_text(sarif, "utf-8")

    c = count(diags)
    is_failed = fails(diags, inputs.fail_on)
    outputs = {
        "errors": str(c.errors),
        "warnings": str(c.warnings),
        "changed-proxies": str(len(changes.proxies)) if changes is not None else "0",
        "report-file": str(report_file),
        "diff-file": str(diff_file) if changes is not None else "",
        "comment-file": str(comment_file),
        "failed": "true" if is_failed else "false",
    }
    for name, value in outputs.items():
        set_output(name, value)
    return CheckResult(diags, changes, is_failed, outputs)


def _echo_untrusted(out: TextIO, text: str) -> None:
    """Print text from the PR with workflow commands disabled (it may contain ``::...``)."""
    if not text:
        return
    token = secrets.token_hex(16)
    out.write(f"::stop-commands::{token}\n{text}::{token}::\n")
