"""The revisions page says what holds a server that does not follow its branch."""

from __future__ import annotations

import re
from typing import Any

from reconciler.serve.console.revisions import revisions_page

SHA = "a" * 40


def status(**changes: Any) -> dict[str, Any]:
    return {
        "lastAttemptedRevision": SHA,
        "lastAppliedRevision": SHA,
        "lastError": None,
        "ready": True,
        "following": True,
        "pinned": None,
        "control": None,
        "source": {"url": "file:///repo", "stale": False},
        "history": [],
        **changes,
    }


def summary(html: str) -> str:
    table = html[html.index('id="summary"') : html.index("</table>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", table))


def test_a_local_pin_and_a_fleet_hold_are_named() -> None:
    pinned = status(following=False, pinned={"sha": "b" * 40, "time": 1.0, "reason": "bad deploy"})
    assert "following no: local pin to bbbbbbbbbbbb (bad deploy)" in summary(
        revisions_page(pinned, None)
    )
    held = status(
        following=False,
        control={
            "mode": "pause",
            "revision": None,
            "by": "Ann <ann@x>",
            "reason": "freeze",
            "error": None,
        },
    )
    assert "following no: fleet pause by Ann &lt;ann@x&gt;: freeze" in summary(
        revisions_page(held, None)
    )
    broken = status(control={"mode": "following", "error": "control.json: not JSON"})
    assert "fleet control control.json: not JSON" in summary(revisions_page(broken, None))


def test_the_journal_names_what_triggered_each_revision() -> None:
    entry = {
        "sha": SHA,
        "time": 0.0,
        "proxies": ["default.web-1"],
        "trigger": "fleet rollback by Ann",
    }
    html = revisions_page(status(history=[entry]), None)
    journal = html[html.index('id="journal"') :]
    assert "fleet rollback by Ann" in journal and "<td>1</td>" in journal
