"""Per-file analysis results (load + one-resource validation) cached by content hash.

An unchanged file costs a hash and a dictionary lookup on the next run or commit. The cache
is one pickle per directory, written atomically; entries not used by the last run are
dropped so it never grows without bound. Its key includes a fingerprint of the code and
schemas that produce the results, so upgrading the reconciler never serves stale answers.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from reconciler.diagnostics import Diagnostic, Severity
from reconciler.model import Position, ResourceKey

_FORMAT = 3

RACY_SECONDS = 2.0
"""A file modified this close to the cache's last write is re-read even if its size and
mtime match (git's "racy clean" rule: timestamps are coarser than edits)."""

FileStat = tuple[int, int, int]
"""``(size, mtime_ns, inode)`` of a file on disk."""


@dataclass(frozen=True, slots=True)
class CachedResource:
    kind: str
    name: str
    mesh: str | None
    data: dict[str, Any]
    doc_index: int
    position: Position


@dataclass(frozen=True, slots=True)
class CachedFile:
    """Everything per-file: resources (without locators) and their local diagnostics."""

    resources: tuple[CachedResource, ...]
    diagnostics: tuple[Diagnostic, ...]
    text: bytes | str | None
    """The file's content, for positions (composed only when one is asked for): its bytes as
    read, the very object the source holds (a server keeps one copy), or the decoded text
    in entries written before; None: not UTF-8."""


def default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("reconciler"))


def code_fingerprint() -> str:
    """Changes whenever the loader, the validators or the schemas change."""
    root = os.path.dirname(os.path.abspath(__file__))
    digest = hashlib.sha1(usedforsecurity=False)
    for sub in ("load", "validate", "kinds", "schemas"):
        found: list[tuple[str, os.stat_result]] = []
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, sub)):
            dirnames.sort()
            rel = os.path.relpath(dirpath, root).replace(os.sep, "/")
            for name in filenames:
                if name.endswith((".py", ".json")):
                    found.append((f"{rel}/{name}", os.stat(os.path.join(dirpath, name))))
        for rel_path, st in sorted(found, key=lambda item: item[0]):
            digest.update(f"{rel_path}:{st.st_size}:{st.st_mtime_ns};".encode())
    for name in ("model.py", "diagnostics.py", "codes.py", "cache.py"):
        st = os.stat(os.path.join(root, name))
        digest.update(f"{name}:{st.st_size}:{st.st_mtime_ns};".encode())
    return digest.hexdigest()


class FileCache:
    """In-memory view of one cache file; :meth:`save` writes back the entries used."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._fingerprint = code_fingerprint()
        self._entries: dict[str, CachedFile] = {}
        self._raw: dict[str, tuple[Any, ...]] = {}
        """Entries as read from disk, decoded on first use; written back as they are."""
        self._used: dict[str, CachedFile] = {}
        self._stats: dict[str, tuple[int, int, int, str]] = {}
        self._stats_used: dict[str, tuple[int, int, int, str]] = {}
        self._written_ns = 0
        self._dirty = False
        if directory is not None:
            self._read(directory / "analysis.marshal")

    def _read(self, path: Path) -> None:
        try:
            with path.open("rb") as fh:
                written_ns = os.fstat(fh.fileno()).st_mtime_ns
                header, encoded, stats = marshal.loads(fh.read())  # load(fh) reads tiny chunks
            if header != (_FORMAT, self._fingerprint) or not isinstance(encoded, dict):
                return
            self._raw = encoded
            self._stats = dict(stats) if isinstance(stats, dict) else {}
            self._written_ns = written_ns
        except (OSError, EOFError, ValueError, TypeError, IndexError, KeyError):
            self._raw, self._stats = {}, {}

    def digest_by_stat(self, path: str, stat: FileStat) -> str | None:
        """The blob id of ``path`` if it is unchanged since the last run (same size, mtime and
        inode, not modified just before the cache was written) and its entry is cached."""
        known = self._stats.get(path)
        if known is None or known[:3] != stat or self.get(known[3]) is None:
            return None
        if stat[1] >= self._written_ns - int(RACY_SECONDS * 1e9):
            return None
        self._stats_used[path] = known
        return known[3]

    def note_stat(self, path: str, stat: FileStat, digest: str) -> None:
        """Remember what ``path`` held, so the next run can skip reading it."""
        entry = (*stat, digest)
        if self._stats.get(path) != entry:
            self._dirty = True
        self._stats_used[path] = entry

    def get(self, digest: str) -> CachedFile | None:
        hit = self._entries.get(digest)
        if hit is None:
            raw = self._raw.get(digest)
            if raw is None:
                return None
            try:
                hit = self._entries[digest] = _decode(raw)
            except (ValueError, TypeError, IndexError, KeyError):  # a damaged entry: a miss
                del self._raw[digest]
                return None
        self._used[digest] = hit
        return hit

    def put(self, digest: str, entry: CachedFile) -> None:
        self._used[digest] = entry
        self._raw.pop(digest, None)
        self._dirty = True

    def save(self) -> None:
        """Write the entries this run used; silently skipped when the directory is not writable."""
        if self.directory is None or not (
            self._dirty or len(self._used) != len(self._raw.keys() | self._entries.keys())
        ):
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".analysis-")
            raw = self._raw  # entries read and not replaced are written back as read
            encoded = {
                digest: raw[digest] if digest in raw else _encode(entry)
                for digest, entry in self._used.items()
            }
            stats = {p: v for p, v in self._stats_used.items() if v[3] in self._used}
            with os.fdopen(fd, "wb") as fh:
                marshal.dump(((_FORMAT, self._fingerprint), encoded, stats), fh)
            os.replace(tmp, self.directory / "analysis.marshal")
        except OSError:
            return


# The file holds plain tuples written with ``marshal``: an order of magnitude faster to write
# and read than pickled objects, and it can only ever hold data (no code runs on load).


def encode_cached(entry: CachedFile) -> tuple[Any, ...]:
    """``entry`` as plain tuples (what the cache file and parsing workers carry)."""
    return _encode(entry)


def decode_cached(raw: tuple[Any, ...]) -> CachedFile:
    """The inverse of :func:`encode_cached`."""
    return _decode(raw)


def _encode(entry: CachedFile) -> tuple[Any, ...]:
    return (
        tuple(
            (r.kind, r.name, r.mesh, r.data, r.doc_index, r.position.line, r.position.col)
            for r in entry.resources
        ),
        tuple(
            (
                d.code,
                d.severity.value,
                d.message,
                d.file,
                d.line,
                d.col,
                d.field,
                (d.resource.type, d.resource.mesh, d.resource.name) if d.resource else None,
            )
            for d in entry.diagnostics
        ),
        entry.text,
    )


def _decode(raw: tuple[Any, ...]) -> CachedFile:
    resources, diagnostics, text = raw
    return CachedFile(
        resources=tuple(
            CachedResource(kind, name, mesh, data, index, Position(line, col))
            for kind, name, mesh, data, index, line, col in resources
        ),
        diagnostics=tuple(
            Diagnostic(
                code,
                Severity(severity),
                message,
                file,
                line,
                col,
                field,
                ResourceKey(*resource) if resource else None,
            )
            for code, severity, message, file, line, col, field, resource in diagnostics
        ),
        text=text,
    )
