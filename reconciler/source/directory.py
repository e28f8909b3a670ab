"""A plain directory (or files) as a source; the revision id is a hash of paths and contents."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reconciler.errors import SourceError, UsageError
from reconciler.load import DEFAULT_MAX_FILE_SIZE, discover, read_files
from reconciler.source import Revision


class DirectorySource:
    """Files as they are now: no history, so :meth:`read` has nothing to give back.

    With ``root`` (the served repository directory), file paths are relative to it, as they
    are for a git source and as CI annotations need; otherwise as :func:`discover` shows them.
    """

    def __init__(
        self,
        paths: Sequence[str | os.PathLike[str]],
        *,
        max_file_size: int = DEFAULT_MAX_FILE_SIZE,
        root: str | os.PathLike[str] | None = None,
    ) -> None:
        self.paths = [Path(p) for p in paths]
        self.max_file_size = max_file_size
        self.root = Path(root).resolve() if root is not None else None

    def describe(self) -> dict[str, Any]:
        return {"url": ", ".join(str(p) for p in self.paths), "branch": None, "kind": "directory"}

    def fetch(self, expected: str | None = None) -> Revision:
        try:
            found = [(self._relative(real, shown), real) for shown, real in discover(self.paths)]
            files, diags = read_files(found, max_size=self.max_file_size)
        except UsageError as exc:  # the directory went away while serving: a source error
            raise SourceError(str(exc)) from exc
        digest = hashlib.sha256()
        for f in files:
            digest.update(f.path.encode() + b"\0" + f.digest.encode() + b"\0")
        return Revision(id=digest.hexdigest()[:40], files=tuple(files), diagnostics=tuple(diags))

    def _relative(self, real: str, shown: str) -> str:
        if self.root is None:
            return shown
        try:
            return Path(real).resolve().relative_to(self.root).as_posix()
        except ValueError:  # outside the root (a symlinked file): keep what discover shows
            return shown

    def read(self, revision_id: str) -> Revision | None:
        return None

    def keep(self, revision_ids: set[str]) -> None:
        return None
