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
    """A place revisions come from. ``fetch`` raises SourceError when it cannot be reached."""

    def describe(self) -> dict[str, Any]:
        """Non-secret description for status: ``{"url": ..., "branch": ...}``."""
        ...

    def fetch(self) -> Revision:
        """The newest revision (cheap when nothing changed)."""
        ...
