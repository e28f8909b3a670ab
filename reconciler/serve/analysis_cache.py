"""Per-file analysis results kept across the revisions a server applies.

:class:`~reconciler.cache.FileCache` is built for one run (entries read from disk, the ones
used written back). A server analyses revision after revision in one process, so here what
one revision used is what the next one looks up: a commit that touches one file re-parses
and re-validates that file only (keys are blob ids, see ``SourceFile.digest``). The entries
are written to ``<state dir>/analysis`` after a revision is published, off the hot path, so
a restart starts warm.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from pathlib import Path

from reconciler.cache import CachedFile, FileCache
from reconciler.diagnostics import Diagnostic
from reconciler.load import SourceFile
from reconciler.pipeline import Analysis, FileResults, analyze
from reconciler.validate.cross import CrossState


class LiveFileCache(FileCache):
    """A FileCache whose :meth:`save` (called by ``analyze`` after each revision) only
    promotes the entries used; :meth:`persist` writes them to disk."""

    def __init__(self, directory: Path | None) -> None:
        super().__init__(directory)
        self._fresh = False

    def put(self, digest: str, entry: CachedFile) -> None:
        super().put(digest, entry)
        self._fresh = True

    def save(self) -> None:
        # entries read at start and not used by this revision: dropped from memory
        self._entries = {d: e for d, e in self._used.items() if e is not None}
        self._used = {}

    def persist(self) -> None:
        """Write the current entries (only if a revision added some since the last write).

        Safe while another revision is analysed: ``save`` replaces the entries dict, it
        never changes one in place, so the dict written here is not modified meanwhile.
        """
        if not self._fresh or self.directory is None:
            return
        self._fresh = False
        writer = copy.copy(self)
        writer._used = dict(self._entries)
        FileCache.save(writer)
        self._where, self._pack, self._unread = writer._where, writer._pack, False

    def __len__(self) -> int:
        return len(self._entries)


class RevisionAnalyzer:
    """``analyze`` for the reconcile loop (``AnalyzeFn``), with a :class:`LiveFileCache`.

    Incremental by file: a file at the same path with the same blob id keeps the previous
    revision's :class:`~reconciler.model.Resource` objects and diagnostics (no decoding,
    no new objects), and a revision whose resource files are all unchanged (a README-only
    commit) returns the previous :class:`Analysis` object itself, so the stages after it can
    recognise "nothing changed" by identity. The cross-resource rules run again only for
    the files a change can affect (``validate/cross.py``).
    """

    def __init__(self, directory: Path | None) -> None:
        self.cache = LiveFileCache(directory)
        self._files: FileResults = {}
        self._cross = CrossState()
        self._last: tuple[tuple[tuple[str, str], ...], tuple[Diagnostic, ...], Analysis] | None
        self._last = None

    def __call__(self, files: Sequence[SourceFile], extra: Iterable[Diagnostic]) -> Analysis:
        key = tuple((f.path, f.digest) for f in files)
        extras = tuple(extra)
        last = self._last
        if last is not None and last[0] == key and last[1] == extras:
            return last[2]
        results: FileResults = {}
        analysis = analyze(
            files,
            cache=self.cache,
            extra=extras,
            reuse=self._files,
            results=results,
            cross=self._cross,
            share=True,
        )
        self._files, self._last = results, (key, extras, analysis)
        return analysis

    def persist(self) -> None:
        self.cache.persist()
