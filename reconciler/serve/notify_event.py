"""One notification, built from an event of the control plane, independent of its format.

Everything a receiver may show comes from here, bounded in size: a proxy's node id on a
refused stream and a NACK's error text come from the network, a commit message from the
repository. :mod:`reconciler.serve.notify_format` turns a :class:`Notification` into a
Slack message or a signed JSON body.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.serve.events import OutcomeLike
from reconciler.source import Revision

MAX_TEXT = 1000
"""Characters kept of one free text (a NACK's error detail, a diagnostic, a message)."""
MAX_DIAGNOSTICS = 10
"""Diagnostics of a refused revision listed in a notification (the count says the rest)."""


class EventKind(StrEnum):
    REVISION_APPLIED = "revision.applied"
    REVISION_REFUSED = "revision.refused"
    PROXY_NACK = "proxy.nack"
    PROXY_REFUSED = "proxy.refused"


@dataclass(frozen=True, slots=True)
class Notification:
    kind: EventKind
    id: str
    """Delivery id: for revision events the same on every replica (receivers can dedupe)."""
    time: float
    server: str
    """The replica that saw the event (its host name)."""
    summary: str
    """One line, plain text."""
    lines: tuple[str, ...] = ()
    """Detail lines, plain text (diagnostics of a refused revision)."""
    data: dict[str, Any] = field(default_factory=dict)
    """The structured part of the generic body (``revision``, ``error``, ``proxy``)."""


def clip(text: str, limit: int = MAX_TEXT) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _id(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]


def revision_notification(
    revision: Revision, outcome: OutcomeLike, *, server: str, now: float
) -> Notification:
    meta = revision.meta
    subject = clip(meta.get("message", "").partition("\n")[0], 200)
    described = {
        "sha": revision.id,
        "author": clip(meta.get("author", ""), 200),
        "message": subject,
    }
    if outcome.applied:
        kind = EventKind.REVISION_APPLIED
        return Notification(
            kind,
            _id(kind, revision.id),
            now,
            server,
            f"revision {revision.short_id} applied: {outcome.proxies} proxies, "
            f"{outcome.changed} changed" + (f" ({subject})" if subject else ""),
            data={
                "revision": {**described, "proxies": outcome.proxies, "changed": outcome.changed}
            },
        )
    kind = EventKind.REVISION_REFUSED
    error = outcome.error or {}
    diagnostics: list[dict[str, Any]] = list(error.get("diagnostics") or [])
    listed = [_diagnostic(d) for d in diagnostics[:MAX_DIAGNOSTICS]]
    lines = tuple(d["text"] for d in listed)
    if len(diagnostics) > MAX_DIAGNOSTICS:
        lines += (f"... and {len(diagnostics) - MAX_DIAGNOSTICS} more",)
    by_code = Counter(str(d.get("code", "")) for d in diagnostics)
    codes_text = ", ".join(f"{code} x{n}" for code, n in sorted(by_code.items()))
    count = f"{len(diagnostics)} error{'s' if len(diagnostics) != 1 else ''}"
    return Notification(
        kind,
        _id(kind, revision.id),
        now,
        server,
        f"revision {revision.short_id} refused, nothing published: {count}"
        + (f" ({codes_text})" if codes_text else ""),
        lines,
        {
            "revision": described,
            "error": {
                "code": error.get("code"),
                "message": clip(str(error.get("message", ""))),
                "diagnosticCount": len(diagnostics),
                "diagnostics": listed,
            },
        },
    )


def _diagnostic(raw: dict[str, Any]) -> dict[str, Any]:
    kept = {k: raw[k] for k in ("code", "file", "line", "col", "field") if raw.get(k) is not None}
    kept["message"] = clip(str(raw.get("message", "")))
    kept["text"] = clip(str(raw.get("text") or raw.get("message", "")))
    return kept


def nack_notification(
    node_id: str, type_short: str, version: str, message: str, *, server: str, now: float
) -> Notification:
    kind = EventKind.PROXY_NACK
    node = clip(node_id, 200)
    detail = clip(message)
    last = detail.splitlines()[-1] if detail else ""
    return Notification(
        kind,
        _id(kind, node, type_short, version, str(now)),
        now,
        server,
        f"proxy {node} rejected {type_short} version {clip(version, 80)}: {clip(last, 300)}",
        (detail,) if detail else (),
        {"proxy": {"id": node, "type": type_short, "version": version, "message": detail}},
    )


def refused_notification(
    node_id: str, problem: str, message: str, *, server: str, now: float
) -> Notification:
    kind = EventKind.PROXY_REFUSED
    node = clip(node_id, 200)
    detail = clip(message)
    return Notification(
        kind,
        _id(kind, node, problem, str(now)),
        now,
        server,
        f"ADS stream claiming {node} refused ({problem}): {clip(detail, 300)}",
        data={"proxy": {"id": node, "problem": problem, "message": detail}},
    )
