"""The step summary and the PR comment body: counts, every diagnostic, the per-proxy diff."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.action.runner_files import SUMMARY_LIMIT_BYTES
from reconciler.diagnostics import Diagnostic, count
from reconciler.diff import ChangeSet
from reconciler.report.diff_markdown import DEFAULT_MAX_CHARS, as_markdown, diagnostic_item

COMMENT_MARKER = "<!-- reconciler:pr-report -->"
"""Hidden marker that identifies the one sticky comment the action keeps updated."""

COMMENT_LIMIT = 65_536
SUMMARY_BUDGET = SUMMARY_LIMIT_BYTES - 16 * 1024
"""Bytes the summary may use; the rest of the 1 MiB stays free for other steps' output."""


def headline(diagnostics: Sequence[Diagnostic], changes: ChangeSet | None) -> str:
    c = count(diagnostics)
    status = "failed" if c.errors else "passed"
    parts = [
        f"{c.errors} error{'s' if c.errors != 1 else ''}",
        f"{c.warnings} warning{'s' if c.warnings != 1 else ''}",
    ]
    if changes is not None:
        n = len(changes.proxies)
        parts.append(f"{n} prox{'y' if n == 1 else 'ies'} changed")
    return f"## Mesh validation {status}: {', '.join(parts)}\n\n"


def counts_table(*, files: int, resources: int, diagnostics: Sequence[Diagnostic]) -> str:
    c = count(diagnostics)
    return (
        "| files | resources | errors | warnings | notices |\n|---:|---:|---:|---:|---:|\n"
        f"| {files} | {resources} | {c.errors} | {c.warnings} | {c.infos} |\n"
    )


def _diagnostics_section(diagnostics: Sequence[Diagnostic], budget: int) -> str:
    if not diagnostics:
        return ""
    out = "\n### Diagnostics\n\n"
    for i, diag in enumerate(diagnostics):
        item = diagnostic_item(diag)
        if len(out.encode()) + len(item.encode()) > budget:
            out += (
                f"\n**truncated: {len(diagnostics) - i} more diagnostics** (see the report file)\n"
            )
            break
        out += item
    return out


def build(
    diagnostics: Sequence[Diagnostic],
    changes: ChangeSet | None,
    *,
    files: int,
    resources: int,
    limit: int,
    base_note: str = "",
) -> str:
    """Markdown of at most ``limit`` bytes: headline, counts, diagnostics, then the diff."""
    head = headline(diagnostics, changes)
    head += counts_table(files=files, resources=resources, diagnostics=diagnostics)
    if base_note:
        head += f"\n{base_note}\n"
    body = _diagnostics_section(diagnostics, budget=(limit - len(head.encode())) // 2)
    text = head + body
    if changes is not None:
        remaining = limit - len(text.encode()) - 64
        if remaining > 1000:
            # Chars may be several bytes: the markdown is bounded in chars, then checked in bytes.
            text += "\n" + as_markdown(
                changes, max_chars=remaining, title="Envoy configuration diff"
            )
    while len(text.encode()) > limit:  # only for unusually wide (non-ASCII) text
        text = text[: len(text) - (len(text.encode()) - limit) - 1]
    return text


def summary(
    diagnostics: Sequence[Diagnostic],
    changes: ChangeSet | None,
    *,
    files: int,
    resources: int,
    base_note: str = "",
) -> str:
    return build(
        diagnostics,
        changes,
        files=files,
        resources=resources,
        limit=SUMMARY_BUDGET,
        base_note=base_note,
    )


def comment(
    diagnostics: Sequence[Diagnostic],
    changes: ChangeSet | None,
    *,
    files: int,
    resources: int,
    base_note: str = "",
) -> str:
    limit = min(DEFAULT_MAX_CHARS, COMMENT_LIMIT - len(COMMENT_MARKER) - 2)
    body = build(
        diagnostics, changes, files=files, resources=resources, limit=limit, base_note=base_note
    )
    return f"{COMMENT_MARKER}\n{body}"
