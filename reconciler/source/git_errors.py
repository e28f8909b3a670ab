"""Why a git source could not be read, and whether trying again can help.

Every failure of a git call is translated here into a :class:`GitSourceError` with a
machine-readable :class:`SourceReason` (shown in status and metrics) and a message that never
contains credentials.
"""

from __future__ import annotations

from enum import StrEnum

from reconciler import codes
from reconciler.errors import SourceError


class SourceReason(StrEnum):
    UNREACHABLE = "unreachable"
    AUTH = "auth"
    BRANCH_DELETED = "branch-deleted"
    TIMEOUT = "timeout"
    CORRUPTED_CACHE = "corrupted-cache"
    REFUSED = "refused"
    """A URL, ref or path that the safety rules reject (never retried)."""
    LOCKED = "locked"
    """Another process holds the cache directory's lock."""
    GIT_FAILED = "git-failed"


_NOT_RETRYABLE = frozenset({SourceReason.REFUSED})


class GitSourceError(SourceError):
    """A git operation failed; ``reason`` says why in one word."""

    def __init__(self, reason: SourceReason, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.reason = reason
        self.retryable = reason not in _NOT_RETRYABLE


class UnsafeSourceError(GitSourceError):
    """A URL, branch or path refused by the git safety rules (a usage error, not retried)."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(SourceReason.REFUSED, message, hint=hint)


def reason_code(reason: SourceReason) -> str:
    """The RC65x diagnostic code that explains ``reason`` (``reconciler explain-code``)."""
    return {
        SourceReason.UNREACHABLE: codes.SOURCE_UNREACHABLE,
        SourceReason.AUTH: codes.SOURCE_AUTH,
        SourceReason.BRANCH_DELETED: codes.SOURCE_BRANCH_DELETED,
        SourceReason.TIMEOUT: codes.SOURCE_TIMEOUT,
        SourceReason.CORRUPTED_CACHE: codes.SOURCE_CORRUPTED_CACHE,
        SourceReason.REFUSED: codes.SOURCE_REFUSED,
        SourceReason.LOCKED: codes.SOURCE_LOCKED,
        SourceReason.GIT_FAILED: codes.SOURCE_GIT_FAILED,
    }[reason]
