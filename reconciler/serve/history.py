"""The reconcile loop's journal part: what was applied, and what to serve after a restart.

The journal (``reconciler.journal``, in the state directory) keeps the last N applied
revisions; their commits are kept readable in the source's cache so ``rollback`` and a
restart with the remote down can serve them again. The rollback pin lives there too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterable

from reconciler.errors import SourceError
from reconciler.journal import Journal, JournalEntry, write_atomic
from reconciler.source import Revision, Source
from reconciler.source.control import Control, ControlError, parse_control

log = logging.getLogger("reconciler.serve")


def start_revision(journal: Journal) -> str | None:
    """The revision to serve before the first fetch: the pinned one, else the last applied."""
    pin = journal.pin()
    last = journal.last()
    return pin.sha if pin is not None else (last.sha if last is not None else None)


def record_applied(
    journal: Journal,
    source: Source,
    revision: Revision,
    before: dict[str, str],
    after: dict[str, str],
    versions: Iterable[str],
    trigger: str = "",
) -> None:
    """Add ``revision`` to the journal (``before``/``after``: node id -> content hash), note
    which commit introduced each of the served ``versions``, and keep the journal's
    revisions readable in the source. ``trigger``: who or what asked for it."""
    affected = sorted(n for n in set(before) | set(after) if before.get(n) != after.get(n))
    journal.note_versions(versions, revision.id)
    last = journal.last()
    if last is not None and last.sha == revision.id:
        return
    entry = JournalEntry(
        sha=revision.id,
        content_hash=revision_content(after),
        time=time.time(),
        proxies=tuple(affected),
        author=revision.meta.get("author", ""),
        message=revision.meta.get("message", ""),
        trigger=trigger,
    )
    kept = journal.record(entry)
    try:
        source.keep({e.sha for e in kept})
    except SourceError as exc:
        log.warning("could not keep journal commits in the cache: %s", exc)


CONTROL_FILE = "fleet-control.json"
"""The last valid fleet control this server read, kept for its next start."""


def save_control(journal: Journal, control: Control | None) -> None:
    """Keep ``control`` (None: no control ref) for the next start."""
    path = journal.dir / CONTROL_FILE
    if control is None:
        path.unlink(missing_ok=True)
        return
    write_atomic(path, json.dumps(control.to_json(), sort_keys=True).encode())


def load_control(journal: Journal) -> Control | None:
    """The fleet control kept by :func:`save_control` (None if none or unreadable)."""
    try:
        raw = json.loads((journal.dir / CONTROL_FILE).read_text(encoding="utf-8"))
        document = {k: raw[k] for k in ("mode", "revision", "reason")}
        return parse_control(
            json.dumps(document).encode(),
            commit=str(raw["commit"]),
            ref=str(raw["ref"]),
            by=str(raw["by"]),
            time=float(raw["time"]),
        )
    except (OSError, ValueError, KeyError, TypeError, ControlError):
        return None


def revision_content(contents: dict[str, str]) -> str:
    digest = hashlib.blake2b(digest_size=8)
    for node in sorted(contents):
        digest.update(f"{node}={contents[node]};".encode())
    return digest.hexdigest()
