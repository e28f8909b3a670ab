"""Request bodies of a notification: a Slack message, or a generic JSON body signed with HMAC.

* ``slack``: ``{"text": ..., "blocks": [...]}`` as Slack's incoming webhooks take it (and
  Mattermost, Rocket.Chat, Discord's ``/slack`` endpoint). Text from the network or the
  repository is escaped (``&``, ``<``, ``>``), so a node id cannot ping ``<!channel>``.
* ``generic``: the JSON documented in docs/notifications.md, with the headers
  ``X-Reconciler-Event``, ``X-Reconciler-Delivery`` and
  ``X-Reconciler-Signature-256: sha256=<hex HMAC-SHA256 of the body with the shared secret>``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from reconciler import __version__
from reconciler.serve.notify_event import EventKind, Notification

SIGNATURE_HEADER = "X-Reconciler-Signature-256"
EVENT_HEADER = "X-Reconciler-Event"
DELIVERY_HEADER = "X-Reconciler-Delivery"
USER_AGENT = f"reconciler/{__version__}"

SLACK_SECTION_LIMIT = 2900
"""Slack refuses a section block over 3,000 characters."""

_ICONS = {
    EventKind.REVISION_APPLIED: ":white_check_mark:",
    EventKind.REVISION_REFUSED: ":no_entry:",
    EventKind.PROXY_NACK: ":warning:",
    EventKind.PROXY_REFUSED: ":lock:",
}


class Format(StrEnum):
    SLACK = "slack"
    GENERIC = "generic"


def iso_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sign(body: bytes, secret: bytes) -> str:
    """The ``X-Reconciler-Signature-256`` value of ``body``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_body(note: Notification) -> dict[str, Any]:
    text = f"{_ICONS[note.kind]} *{slack_escape(note.summary)}*"
    if note.lines:
        details = slack_escape("\n".join(note.lines)).replace("```", "'''")
        room = SLACK_SECTION_LIMIT - len(text) - 10
        if len(details) > room:
            details = details[: max(0, room - 1)] + "…"
        text += f"\n```{details}```"
    context = f"{note.kind} · reconciler on {slack_escape(note.server)} · {iso_time(note.time)}"
    return {
        "text": f"[{note.kind}] {note.summary}",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
        ],
    }


def generic_body(note: Notification) -> dict[str, Any]:
    return {
        "id": note.id,
        "event": str(note.kind),
        "time": iso_time(note.time),
        "server": note.server,
        "summary": note.summary,
        **note.data,
    }


def render(note: Notification, fmt: Format, secret: bytes | None) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one POST (the generic format needs the secret)."""
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if fmt is Format.SLACK:
        return json.dumps(slack_body(note), ensure_ascii=False).encode(), headers
    if secret is None:
        raise ValueError("the generic format is signed: a secret is required")
    body = json.dumps(generic_body(note), ensure_ascii=False, sort_keys=True).encode()
    headers[EVENT_HEADER] = str(note.kind)
    headers[DELIVERY_HEADER] = note.id
    headers[SIGNATURE_HEADER] = sign(body, secret)
    return body, headers
