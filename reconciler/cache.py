"""Per-file analysis results (load + one-resource validation) cached by content hash.

An unchanged file costs a hash and a dictionary lookup on the next run or commit. The cache
is a directory: an index and a pack of entries (:class:`FileCache`), and the state of the
last runs per source tree (:func:`read_tree`); entries not used by the last run are dropped
so it never grows without bound. Its key includes a fingerprint of the code and
schemas that produce the results, so upgrading the reconciler never serves stale answers.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import marshal
import os
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.diagnostics import Diagnostic, Severity
from reconciler.model import Position, ResourceKey

_FORMAT = 4

RACY_SECONDS = 2.0
"""A file modified this close to the cache's last write is re-read even if its size and
mtime match (git's "racy clean" rule: timestamps are coarser than edits)."""


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
    import platformdirs  # only when no --cache-dir is given

    return Path(platformdirs.user_cache_dir("reconciler"))


@functools.cache
def code_fingerprint() -> str:
    """Changes whenever the loader, the validators or the schemas change (once per process):
    the name, size and mtime of each of their files."""
    root = os.path.dirname(os.path.abspath(__file__))
    found: list[str] = []
    for sub in ("load", "validate", "kinds", "schemas"):
        stack = [(os.path.join(root, sub), sub)]
        while stack:
            directory, rel = stack.pop()
            with os.scandir(directory) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        if entry.name != "__pycache__":
                            stack.append((entry.path, f"{rel}/{entry.name}"))
                    elif entry.name.endswith((".py", ".json")):
                        st = entry.stat()
                        found.append(f"{rel}/{entry.name}:{st.st_size}:{st.st_mtime_ns};")
    for name in ("model.py", "diagnostics.py", "codes.py", "cache.py", "working_tree.py"):
        st = os.stat(os.path.join(root, name))
        found.append(f"{name}:{st.st_size}:{st.st_mtime_ns};")
    found.sort()
    return hashlib.sha1("".join(found).encode(), usedforsecurity=False).hexdigest()


class FileCache:
    """Entries by blob id: an index read at start, each entry read and decoded when used.

    On disk, ``analysis.index`` maps each blob id to where its entry lies in a pack file
    (``marshal`` blobs one after the other). A run reads the index only; :meth:`get` reads
    one entry. :meth:`save` appends the new entries to the pack and writes an index of the
    entries this run used (:meth:`get`, :meth:`put`, or :meth:`keep` without reading);
    the others are dropped, and the pack is rewritten once dropped bytes outweigh the rest.
    """

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._fingerprint = code_fingerprint()
        self._entries: dict[str, CachedFile] = {}
        """Entries decoded or put by this process."""
        self._where: dict[str, tuple[int, int]] = {}
        """``blob id -> (offset, length)`` of the entries in the pack."""
        self._pack = ""
        self._used: dict[str, CachedFile | None] = {}
        """Entries this run used; None: kept without being read."""
        self._unread = directory is not None
        """The index is read on first use (a run with nothing to look up never reads it)."""

    @property
    def _located(self) -> dict[str, tuple[int, int]]:
        if self._unread:
            self._unread = False
            assert self.directory is not None
            try:
                with open(self.directory / INDEX, "rb") as fh:
                    header, pack, where = marshal.loads(fh.read())  # load(fh): tiny chunks
                if header == (_FORMAT, self._fingerprint) and isinstance(where, dict):
                    self._where, self._pack = where, str(pack)
            except (OSError, EOFError, ValueError, TypeError):
                pass
        return self._where

    def __contains__(self, digest: str) -> bool:
        return digest in self._entries or digest in self._located

    def keep(self, digests: Iterable[str]) -> None:
        """Keep the entries of ``digests`` for the next run without reading them."""
        used, entries, where = self._used, self._entries, self._located
        for digest in digests:
            if digest not in used and (digest in where or digest in entries):
                used[digest] = entries.get(digest)

    def get(self, digest: str) -> CachedFile | None:
        hit = self._entries.get(digest)
        if hit is None:
            where = self._located.get(digest)
            if where is None:
                return None
            hit = self._load(digest, *where)
            if hit is None:  # a damaged entry: a miss
                del self._where[digest]
                return None
            self._entries[digest] = hit
        self._used[digest] = hit
        return hit

    def _load(self, digest: str, offset: int, length: int) -> CachedFile | None:
        assert self.directory is not None
        try:
            with open(self.directory / self._pack, "rb") as fh:
                fh.seek(offset)
                stored, raw = marshal.loads(fh.read(length))
            return _decode(raw) if stored == digest else None
        except (OSError, EOFError, ValueError, TypeError, IndexError, KeyError):
            return None

    def put(self, digest: str, entry: CachedFile) -> None:
        self._entries[digest] = self._used[digest] = entry
        self._located.pop(digest, None)

    def save(self) -> None:
        """Write the entries this run used; silently skipped when the directory is not writable."""
        if self.directory is None:
            return
        where = self._located
        kept = {digest: where[digest] for digest in self._used if digest in where}
        new = [
            (digest, entry)
            for digest, entry in self._used.items()
            if digest not in where and entry is not None
        ]
        if not new and len(kept) == len(where):
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            pack, kept = self._write_pack(kept, new)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".analysis-")
            with os.fdopen(fd, "wb") as fh:
                marshal.dump(((_FORMAT, self._fingerprint), pack, kept), fh)
            os.replace(tmp, self.directory / INDEX)
        except OSError:
            return
        old, self._where, self._pack = self._pack, kept, pack
        if old != pack:
            self._drop_packs(pack, old)
        with contextlib.suppress(OSError):
            os.unlink(self.directory / "analysis.marshal")  # the format before packs

    def _drop_packs(self, current: str, replaced: str) -> None:
        """Delete the packs no index names: the one just replaced, and any a concurrent run
        left (not written to in the last minute)."""
        assert self.directory is not None
        now = time.time()
        with contextlib.suppress(OSError), os.scandir(self.directory) as entries:
            for entry in entries:
                name = entry.name
                orphan = name.startswith("analysis-") and name.endswith(".pack")
                if (
                    orphan
                    and name != current
                    and (name == replaced or entry.stat().st_mtime < now - 60)
                ):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)

    def _write_pack(
        self, kept: dict[str, tuple[int, int]], new: list[tuple[str, CachedFile]]
    ) -> tuple[str, dict[str, tuple[int, int]]]:
        """Append ``new`` to the pack (a new pack with the kept entries when the pack is
        mostly dropped entries); the pack's name and where every entry now lies."""
        assert self.directory is not None
        blobs = [(digest, marshal.dumps((digest, _encode(entry)))) for digest, entry in new]
        live = sum(length for _, length in kept.values())
        try:
            size = os.stat(self.directory / self._pack).st_size if self._pack else -1
        except OSError:
            size = -1
        pack = self._pack
        if size < 0 or size - live > live:
            pack = f"analysis-{os.urandom(6).hex()}.pack"
            carried: list[tuple[str, bytes]] = []
            if kept and size >= 0:
                with open(self.directory / self._pack, "rb") as fh:
                    for digest, (offset, length) in kept.items():
                        fh.seek(offset)
                        carried.append((digest, fh.read(length)))
            blobs = carried + blobs
            kept = {}
        data = b"".join(blob for _, blob in blobs)
        fd = os.open(self.directory / pack, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:  # one appending write: its bytes lie together even if another run appends too
            if os.write(fd, data) != len(data):
                raise OSError("short write")
            offset = os.lseek(fd, 0, os.SEEK_CUR) - len(data)
        finally:
            os.close(fd)
        for digest, blob in blobs:
            kept[digest] = (offset, len(blob))
            offset += len(blob)
        return pack, kept


INDEX = "analysis.index"


# Per source tree (the paths one command was given), what the last run found: each file's
# stat, blob id and results, and the cross-resource state. Opaque plain data to this module.

TREES_KEPT = 4
"""Tree states kept per cache directory (one per set of paths validated), newest first."""


def read_tree(directory: Path, key: str, part: str = "tree") -> tuple[int, Any] | None:
    """``(write time in ns, payload)`` of ``part`` of the last run on the tree ``key``."""
    try:
        with open(directory / _tree_name(key, part), "rb") as fh:
            written_ns = os.fstat(fh.fileno()).st_mtime_ns
            header, payload = marshal.loads(fh.read())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if header != (_FORMAT, code_fingerprint(), key):
        return None
    return written_ns, payload


def write_tree(directory: Path, key: str, payload: Any, part: str = "tree") -> None:
    """Replace ``part`` of the state of the tree ``key`` (atomically); keep the
    :data:`TREES_KEPT` newest trees."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tree-")
        with os.fdopen(fd, "wb") as fh:
            marshal.dump(((_FORMAT, code_fingerprint(), key), payload), fh)
        os.replace(tmp, directory / _tree_name(key, part))
        trees = sorted(
            (entry.stat().st_mtime_ns, entry.name)
            for entry in os.scandir(directory)
            if entry.name.startswith(f"{part}-")
        )
        for _, name in trees[:-TREES_KEPT]:
            os.unlink(directory / name)
    except OSError:
        return


def _tree_name(key: str, part: str) -> str:
    digest = hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:16]
    return f"{part}-{digest}.marshal"


# The file holds plain tuples written with ``marshal``: an order of magnitude faster to write
# and read than pickled objects, and it can only ever hold data (no code runs on load).


def encode_cached(entry: CachedFile) -> tuple[Any, ...]:
    """``entry`` as plain tuples (what the cache file and parsing workers carry)."""
    return _encode(entry)


def decode_cached(raw: tuple[Any, ...]) -> CachedFile:
    """The inverse of :func:`encode_cached`."""
    return _decode(raw)


def encode_diagnostic(d: Diagnostic) -> tuple[Any, ...]:
    return (
        d.code,
        d.severity.value,
        d.message,
        d.file,
        d.line,
        d.col,
        d.field,
        (d.resource.type, d.resource.mesh, d.resource.name) if d.resource else None,
    )


def decode_diagnostic(raw: tuple[Any, ...]) -> Diagnostic:
    code, severity, message, file, line, col, field, resource = raw
    return Diagnostic(
        code,
        Severity(severity),
        message,
        file,
        line,
        col,
        field,
        ResourceKey(*resource) if resource else None,
    )


def _encode(entry: CachedFile) -> tuple[Any, ...]:
    return (
        tuple(
            (r.kind, r.name, r.mesh, r.data, r.doc_index, r.position.line, r.position.col)
            for r in entry.resources
        ),
        tuple(encode_diagnostic(d) for d in entry.diagnostics),
        entry.text,
    )


def _decode(raw: tuple[Any, ...]) -> CachedFile:
    resources, diagnostics, text = raw
    return CachedFile(
        resources=tuple(
            CachedResource(kind, name, mesh, data, index, Position(line, col))
            for kind, name, mesh, data, index, line, col in resources
        ),
        diagnostics=tuple(decode_diagnostic(d) for d in diagnostics),
        text=text,
    )
