"""Stage ``source``: where resource files come from (a directory, or a commit of a git repo).

Output: a :class:`Revision` (an id plus :class:`SourceFile` objects). Git lives only in this
package (``source/git*.py``, the ``git`` binary with argument lists); no other package runs git.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from reconciler.load import SourceFile


@dataclass(frozen=True, slots=True)
class Revision:
    """One state of a source: ``id`` is a commit SHA, or a content hash for a directory."""

    id: str
    files: tuple[SourceFile, ...]
    diagnostics: tuple[Any, ...] = ()
    """Problems met while reading (unreadable or oversized files) as Diagnostic objects."""
    meta: dict[str, str] = field(default_factory=dict)
    """Free-form details for status: author, message, time for a commit."""

    @property
    def short_id(self) -> str:
        return self.id[:8]


class Source(Protocol):
    """A place revisions come from: every method the reconcile loop calls.

    ``fetch`` and ``read`` raise SourceError when the source cannot be reached or read.
    """

    def describe(self) -> dict[str, Any]:
        """Non-secret description for status: ``{"url": ..., "branch": ...}``."""
        ...

    def fetch(self, expected: str | None = None) -> Revision:
        """The newest revision (cheap when nothing changed). ``expected``: the revision a
        push notification announced (a webhook's ``after``); a source may skip asking
        what the newest is, but always returns what it actually read."""
        ...

    def read(self, revision_id: str) -> Revision | None:
        """A revision served before (restart recovery, rollback pin), from local storage
        without contacting the remote; None when this source keeps no history."""
        ...

    def keep(self, revision_ids: set[str]) -> None:
        """Keep exactly ``revision_ids`` (the journal's) readable by :meth:`read`."""
        ...
