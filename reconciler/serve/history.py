"""The reconcile loop's journal part: what was applied, and what to serve after a restart.

The journal (``reconciler.journal``, in the state directory) keeps the last N applied
revisions; their commits are kept readable in the source's cache so ``rollback`` and a
restart with the remote down can serve them again. The rollback pin lives there too.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable

from reconciler.errors import SourceError
from reconciler.journal import Journal, JournalEntry
from reconciler.source import Revision, Source

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


def revision_content(contents: dict[str, str]) -> str:
    digest = hashlib.blake2b(digest_size=8)
    for node in sorted(contents):
        digest.update(f"{node}={contents[node]};".encode())
    return digest.hexdigest()
