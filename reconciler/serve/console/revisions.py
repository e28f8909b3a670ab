"""The revisions pages: what was applied and attempted, why a revision was refused (every
diagnostic with its ``file:line``), and the diff a published revision made."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from reconciler.diff import ChangeSet, ProxyChange, SourceChange, diff_revisions
from reconciler.report.diff_text import counts_line, format_field
from reconciler.serve.console.markup import (
    Html,
    esc,
    fields,
    link,
    page,
    path,
    short,
    table,
    tag,
)
from reconciler.serve.console.records import Attempt, Build, BuildLog


def when(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))


def revision_link(sha: str | None) -> Html:
    if not sha:
        return esc("none")
    return link(path("revisions", sha), short(sha))


def diagnostics_table(diagnostics: Sequence[Mapping[str, Any]]) -> Html:
    """Every diagnostic of a refusal: where (file:line:col), code, field, message, resource."""
    if not diagnostics:
        return tag("p", "no diagnostics (see the message above)", class_="muted")
    rows = []
    for d in diagnostics:
        where = ":".join(str(p) for p in (d.get("file"), d.get("line"), d.get("col")) if p)
        rows.append(
            (
                tag("code", where or "-"),
                tag("span", d.get("severity", ""), class_="bad"),
                d.get("code", ""),
                d.get("field") or "",
                d.get("message", ""),
                _resource(d.get("resource")),
            )
        )
    return table(("where", "severity", "code", "field", "message", "resource"), rows)


def _resource(raw: object) -> str:
    if isinstance(raw, Mapping):
        mesh = f"{raw['mesh']}/" if raw.get("mesh") else ""
        return f"{raw.get('type', '')} {mesh}{raw.get('name', '')}"
    return str(raw or "")


def rejection_block(rejection: Mapping[str, Any]) -> Html:
    parts: list[object] = [
        tag("p", tag("strong", rejection.get("code", ""), class_="bad"), " ", rejection["message"])
    ]
    if rejection.get("hint"):
        parts.append(tag("p", "hint: ", rejection["hint"], class_="muted"))
    parts.append(diagnostics_table(rejection.get("diagnostics") or ()))
    return Html("".join(esc(p) for p in parts))


def _following(status: Mapping[str, Any]) -> object:
    """Whether the branch is followed, else what holds the server (a local pin, a fleet
    rollback or pause from the configuration repository's control ref)."""
    if status.get("following", True):
        return "yes"
    pinned = status.get("pinned")
    if pinned:
        reason = pinned.get("reason") or "rollback"
        return tag("span", f"no: local pin to {short(pinned.get('sha'))} ({reason})", class_="warn")
    control = status.get("control") or {}
    by = f" by {control['by']}" if control.get("by") else ""
    why = f": {control['reason']}" if control.get("reason") else ""
    target = f" to {short(control['revision'])}" if control.get("revision") else ""
    return tag("span", f"no: fleet {control.get('mode', 'hold')}{target}{by}{why}", class_="warn")


def _summary(status: Mapping[str, Any]) -> Html:
    source = status.get("source") or {}
    control = status.get("control") or {}
    rows: list[tuple[object, object]] = [
        ("last applied revision", revision_link(status.get("lastAppliedRevision"))),
        ("last attempted revision", revision_link(status.get("lastAttemptedRevision"))),
        ("ready", "yes" if status.get("ready") else f"no: {status.get('waitingFor') or ''}"),
        ("following", _following(status)),
        ("source", source.get("url") or source.get("path") or source.get("kind") or "-"),
        (
            "source reachable",
            tag("span", f"no: {source.get('error')}", class_="bad")
            if source.get("stale")
            else "yes",
        ),
        ("last fetch", when(source.get("lastSuccessTime"))),
    ]
    if control.get("error"):
        rows.append(("fleet control", tag("span", control["error"], class_="bad")))
    return fields(rows, id="summary")


def _attempt_row(attempt: Attempt, log: BuildLog) -> tuple[object, ...]:
    kept = log.find(attempt.revision) is not None and attempt.applied
    outcome: object = (
        tag("span", "applied", class_="ok")
        if attempt.rejection is None
        else tag("span", f"refused ({attempt.rejection.get('code', '')})", class_="bad")
    )
    sha: object = link(path("revisions", attempt.revision), short(attempt.revision))
    if not kept and attempt.applied:
        sha = short(attempt.revision)
    return (sha, when(attempt.time), outcome, attempt.author, attempt.message)


def revisions_page(status: Mapping[str, Any], log: BuildLog | None) -> str:
    body: list[object] = [_summary(status)]
    error = status.get("lastError")
    if error:
        body += [
            tag("h2", "Last attempted revision was refused", class_="bad"),
            tag(
                "p",
                "Nothing of it was published; revision ",
                short(status.get("lastAppliedRevision")),
                " keeps serving.",
            ),
            rejection_block(error),
        ]
    if log is not None:
        attempts = log.attempts()
        body += [
            tag("h2", "Attempts (newest first)"),
            table(
                ("revision", "time", "outcome", "author", "message"),
                [_attempt_row(a, log) for a in attempts],
                id="attempts",
            ),
        ]
        shown = status.get("lastAttemptedRevision") if error else None
        refused = [
            a
            for index, a in enumerate(attempts)
            if a.rejection is not None and not (index == 0 and a.revision == shown)
        ]
        for attempt in refused:
            assert attempt.rejection is not None
            body += [
                tag(
                    "h3",
                    f"Refused {short(attempt.revision)} at {when(attempt.time)}",
                    id=f"refused-{attempt.revision}-{int(attempt.time * 1000)}",
                ),
                rejection_block(attempt.rejection),
            ]
    history = status.get("history") or []
    if history:
        body += [
            tag("h2", "Journal (applied revisions kept in the state directory)"),
            table(
                ("revision", "time", "proxies changed", "triggered by", "author", "message"),
                [
                    (
                        link(path("revisions", e["sha"]), short(e["sha"])),
                        when(e.get("time")),
                        len(e.get("proxies") or ()),
                        e.get("trigger") or "-",
                        e.get("author", ""),
                        e.get("message", ""),
                    )
                    for e in history
                ],
                id="journal",
            ),
        ]
    return page("Revisions", *body)


def change_set(build: Build, base: Build | None) -> ChangeSet:
    """What publishing ``build`` changed, against ``base`` (nothing: everything is new)."""
    return diff_revisions(
        sources=(base.resources if base is not None else (), build.resources),
        proxies=(base.configs if base is not None else {}, build.configs),
        base=base.attempt.revision if base is not None else None,
        head=build.attempt.revision,
    )


def _source_rows(changes: Iterable[SourceChange]) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for change in changes:
        where = f"{change.file}:{change.line}" if change.file and change.line else change.file
        rows.append(
            (
                tag("span", change.action.value, class_=change.action.value),
                str(change.key),
                tag("code", where or ""),
                tag("pre", "\n".join(format_field(f) for f in change.fields))
                if change.fields
                else "",
            )
        )
    return rows


def _proxy_block(proxy: ProxyChange) -> Html:
    rows = [
        (
            tag("span", res.action.value, class_=res.action.value),
            res.type_url.short,
            res.name,
            tag("pre", "\n".join(format_field(f) for f in res.fields)) if res.fields else "",
        )
        for res in proxy.resources
    ]
    return tag(
        "section",
        tag(
            "h3",
            link(path("proxies", proxy.node_id), proxy.node_id),
            " ",
            tag("span", proxy.action.value, class_=proxy.action.value),
        ),
        table(("action", "type", "name", "fields"), rows),
        class_="proxy-change",
    )


def diff_page(build: Build, base: Build | None, changes: ChangeSet) -> str:
    attempt = build.attempt
    against = (
        tag(
            "p",
            "against the revision published before it, ",
            link(path("revisions", base.attempt.revision), short(base.attempt.revision)),
        )
        if base is not None
        else tag(
            "p",
            "the first revision this server published (or the earlier one is no longer "
            "kept): compared with an empty mesh",
            class_="muted",
        )
    )
    body: list[object] = [
        fields(
            [
                ("revision", tag("code", attempt.revision)),
                ("published", when(attempt.time)),
                ("author", attempt.author or "-"),
                ("message", attempt.message or "-"),
            ],
        ),
        against,
        tag("p", tag("strong", counts_line(changes)), id="counts"),
    ]
    if changes.sources:
        body += [
            tag("h2", "Source changes"),
            table(("action", "resource", "where", "fields"), _source_rows(changes.sources)),
        ]
    if changes.proxies:
        body.append(tag("h2", "Proxies"))
        body += [_proxy_block(p) for p in changes.proxies]
    if changes.unchanged_proxies:
        n = len(changes.unchanged_proxies)
        body.append(tag("p", f"{n} prox{'y' if n == 1 else 'ies'} unchanged", class_="muted"))
    return page(f"Revision {short(attempt.revision)}", *body)


def refused_page(attempt: Attempt) -> str:
    assert attempt.rejection is not None
    return page(
        f"Revision {short(attempt.revision)} (refused)",
        tag("p", "Attempted ", when(attempt.time), "; nothing of it was published."),
        rejection_block(attempt.rejection),
    )


def journal_page(entry: Mapping[str, Any]) -> str:
    proxies = entry.get("proxies") or []
    trigger = f" ({entry['trigger']})" if entry.get("trigger") else ""
    return page(
        f"Revision {short(entry['sha'])}",
        tag(
            "p",
            "Applied ",
            when(entry.get("time")),
            trigger,
            " (from the journal; this server keeps the field-level diff of its last "
            "published revisions only).",
            class_="muted",
        ),
        tag("h2", f"Proxies whose configuration it changed ({len(proxies)})"),
        tag("ul", *(tag("li", link(path("proxies", p), p)) for p in proxies)),
    )
