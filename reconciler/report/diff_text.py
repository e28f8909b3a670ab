"""A ChangeSet as plain text for a terminal (and the shared one-line field rendering)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from reconciler.diagnostics import Diagnostic
from reconciler.diff import MISSING, ChangeSet, FieldChange, ProxyChange, SourceChange

MAX_VALUE_CHARS = 200
"""A longer value is cut (the JSON format always carries it whole)."""


def format_value(value: Any, *, limit: int = MAX_VALUE_CHARS) -> str:
    if value is MISSING:
        return "<absent>"
    text = json.dumps(value, sort_keys=True, separators=(", ", ": "), ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_field(change: FieldChange) -> str:
    """``path: old -> new`` (``<absent>`` on the side where the field does not exist)."""
    return f"{change.path}: {format_value(change.old)} -> {format_value(change.new)}"


def source_label(change: SourceChange) -> str:
    where = f"{change.file}:{change.line}" if change.file and change.line else change.file or ""
    return f"{change.key}" + (f" ({where})" if where else "")


def counts_line(changes: ChangeSet) -> str:
    c = changes.counts()
    s, p = c["sources"], c["proxies"]
    return (
        f"sources: {s['created']} created, {s['configured']} configured, {s['deleted']} deleted; "
        f"proxies: {p['created']} created, {p['configured']} configured, {p['deleted']} deleted, "
        f"{p['unchanged']} unchanged"
    )


def partial_lines(changes: ChangeSet) -> list[str]:
    if changes.partial is None:
        return []
    left = ", ".join(str(k) for k in changes.partial.left_out) or "none"
    lines = [
        "PARTIAL DIFF: the new revision has errors; the diff shows what its valid resources "
        "would produce.",
        f"  left out: {left}",
    ]
    if changes.partial.files:
        lines.append(
            f"  files with errors and no usable resource: {', '.join(changes.partial.files)}"
        )
    return lines


def proxy_lines(proxy: ProxyChange, indent: str = "  ") -> list[str]:
    lines = []
    for res in proxy.resources:
        lines.append(f"{indent}{res.action.value:<10}  {res.type_url.short} {res.name}")
        lines.extend(f"{indent}    edited by {by}" for by in res.edited_by)
        lines.extend(f"{indent}    {format_field(f)}" for f in res.fields)
    return lines


def as_text(changes: ChangeSet, diagnostics: Sequence[Diagnostic] = ()) -> str:
    lines = [d.format_text() for d in diagnostics]
    if diagnostics:
        lines.append("")
    lines.extend(partial_lines(changes))
    lines.extend(f"note: {n}" for n in changes.notes)
    if changes.sources:
        lines.append("Source changes:")
        for s in changes.sources:
            lines.append(f"  {s.action.value:<10}  {source_label(s)}")
            lines.extend(f"      {format_field(f)}" for f in s.fields)
    for proxy in changes.proxies:
        lines.append(f"Proxy {proxy.node_id} ({proxy.action.value}):")
        lines.extend(proxy_lines(proxy))
    if changes.unchanged_proxies:
        n = len(changes.unchanged_proxies)
        lines.append(f"{n} prox{'y' if n == 1 else 'ies'} unchanged")
    status = "changes" if changes.changed else "no changes"
    lines.append(f"{status}: {counts_line(changes)}")
    return "\n".join(lines) + "\n"
