"""A ChangeSet as GitHub-flavoured markdown for PR comments and step summaries.

Layout: a title, a partial-diff warning when the new revision had errors, a summary table,
the diagnostics, the source changes, then one ``<details>`` section per changed proxy.
Unchanged proxies are counted, never listed. The text never exceeds ``max_chars``: blocks
that do not fit are left out in order and replaced by one "truncated: N more" note.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from reconciler.diagnostics import Diagnostic
from reconciler.diff import ChangeSet, ProxyChange, SourceChange
from reconciler.report.diff_text import format_field

DEFAULT_MAX_CHARS = 60_000
"""Under GitHub's 65,536-character comment limit, with room for a marker and a footer."""

MAX_FIELD_LINES = 200
"""Field changes shown per proxy or per source resource before "... N more"."""

_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")


def md_text(text: str) -> str:
    """Text safe to put in a markdown paragraph, list item or table cell."""
    return _SPECIAL.sub(r"\\\1", html.escape(text, quote=False)).replace("\n", " ")


def code_block(lines: Sequence[str]) -> str:
    body = "\n".join(lines)
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{body}\n{fence}\n"


def _capped(lines: list[str], limit: int = MAX_FIELD_LINES) -> list[str]:
    if len(lines) <= limit:
        return lines
    return [*lines[:limit], f"... {len(lines) - limit} more lines"]


def summary_table(changes: ChangeSet) -> str:
    c = changes.counts()
    s, p = c["sources"], c["proxies"]
    return (
        "| | created | configured | deleted | unchanged |\n"
        "|---|---:|---:|---:|---:|\n"
        f"| Source resources | {s['created']} | {s['configured']} | {s['deleted']} | |\n"
        f"| Proxies | {p['created']} | {p['configured']} | {p['deleted']} | {p['unchanged']} |\n"
    )


def diagnostic_item(diag: Diagnostic) -> str:
    return f"- {md_text(diag.format_text())}\n"


def source_block(change: SourceChange) -> str:
    where = ""
    if change.file:
        loc = f"{change.file}:{change.line}" if change.line else change.file
        where = f" in <code>{html.escape(loc)}</code>"
    text = f"- **{change.action.value}** {md_text(str(change.key))}{where}\n"
    if change.fields:
        fields = _capped([format_field(f) for f in change.fields])
        text += "\n" + "".join(f"  {line}\n" for line in code_block(fields).splitlines()) + "\n"
    return text


def proxy_block(proxy: ProxyChange) -> str:
    n = len(proxy.resources)
    summary = (
        f"<code>{html.escape(proxy.node_id)}</code>: {proxy.action.value}, "
        f"{n} resource{'s' if n != 1 else ''}"
    )
    lines: list[str] = []
    for res in proxy.resources:
        lines.append(f"{res.action.value:<10}  {res.type_url.short} {res.name}")
        lines.extend(f"    edited by {by}" for by in res.edited_by)
        lines.extend(f"    {format_field(f)}" for f in res.fields)
    return f"<details><summary>{summary}</summary>\n\n{code_block(_capped(lines))}\n</details>\n"


def as_markdown(
    changes: ChangeSet,
    diagnostics: Sequence[Diagnostic] = (),
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    title: str = "Envoy configuration diff",
) -> str:
    head = [f"### {md_text(title)}\n"]
    if changes.base or changes.head:
        head.append(f"`{changes.base or '?'}` → `{changes.head or '?'}`\n")
    if changes.partial is not None:
        left = ", ".join(md_text(str(k)) for k in changes.partial.left_out) or "none"
        head.append(
            "> [!WARNING]\n> **Partial diff**: the new revision has errors; this is what its "
            f"valid resources would produce. Left out: {left}.\n"
        )
    head.extend(f"> {md_text(note)}\n" for note in changes.notes)
    head.append(summary_table(changes))
    if not changes.changed:
        head.append("No changes.\n")

    sections: list[tuple[str, str, list[str]]] = []  # (heading, noun, blocks)
    if diagnostics:
        sections.append(
            ("#### Diagnostics\n", "diagnostics", [diagnostic_item(d) for d in diagnostics])
        )
    if changes.sources:
        sections.append(
            ("#### Source changes\n", "source changes", [source_block(s) for s in changes.sources])
        )
    if changes.proxies:
        sections.append(("#### Proxies\n", "proxies", [proxy_block(p) for p in changes.proxies]))
    tail = ""
    if changes.unchanged_proxies:
        n = len(changes.unchanged_proxies)
        tail = f"\n{n} prox{'y' if n == 1 else 'ies'} unchanged.\n"
    return _bounded("\n".join(head), sections, tail, max_chars)


def _bounded(
    head: str, sections: list[tuple[str, str, list[str]]], tail: str, max_chars: int
) -> str:
    reserve = 300  # room for the truncation note
    out = head
    omitted: dict[str, int] = {}
    full = False
    for heading, noun, blocks in sections:
        shown = False
        for block in blocks:
            extra = ("\n" + heading if not shown else "") + block
            if full or len(out) + len(extra) + len(tail) + reserve > max_chars:
                full = True
                omitted[noun] = omitted.get(noun, 0) + 1
                continue
            out += extra
            shown = True
    if omitted:
        parts = ", ".join(f"{n} more {noun}" for noun, n in omitted.items())
        out += (
            f"\n> **truncated: {parts}** not shown (limit {max_chars} characters); "
            "`reconciler diff --format json` prints everything.\n"
        )
    out += tail
    return out[:max_chars] if len(out) > max_chars else out
