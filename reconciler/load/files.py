"""Finding resource files and reading them as text, with size and encoding checks."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from reconciler import codes
from reconciler.diagnostics import Diagnostic, at_file
from reconciler.errors import UsageError

RESOURCE_SUFFIXES = (".yaml", ".yml", ".json")
DEFAULT_MAX_FILE_SIZE = 1024 * 1024
"""Largest resource file read (bytes); ``--max-file-size`` changes it."""


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file's display path (relative, '/'-separated) and its bytes.

    Directories and git commits both produce these, so later stages never touch the disk.
    """

    path: str
    data: bytes
    oid: str | None = field(default=None, compare=False, repr=False)
    """Git's blob id of ``data`` when the reader already knows it (read from a commit)."""

    @property
    def digest(self) -> str:
        """Identifies the content: git's blob id, the same for a directory and a commit."""
        return self.oid if self.oid is not None else blob_id(self.data)


def blob_id(data: bytes) -> str:
    """Git's object id of a blob holding ``data`` (SHA-1 object format)."""
    digest = hashlib.sha1(b"blob %d\0" % len(data), usedforsecurity=False)
    digest.update(data)
    return digest.hexdigest()


def is_resource_path(rel_path: str) -> bool:
    """True for ``*.yaml|*.yml|*.json`` with no hidden component (``.git``, ``.github``...)."""
    parts = rel_path.split("/")
    return rel_path.endswith(RESOURCE_SUFFIXES) and not any(p.startswith(".") for p in parts)


def discover(paths: Iterable[str | os.PathLike[str]]) -> Iterator[tuple[str, Path]]:
    """``(display path, real path)`` of every resource file under ``paths``, sorted per root.

    A path that does not exist is a usage error (exit 2), not a diagnostic.
    """
    seen: set[str] = set()
    for raw in paths:
        root = Path(raw)
        if not root.exists():
            raise UsageError(f"path not found: {raw}", hint="give a directory or a YAML file")
        found = [(_display(root), root)] if root.is_file() else sorted(_walk(root))
        for display, real in found:
            # Paths, not inodes: a symlinked duplicate is read twice and then reported as a
            # duplicate resource, which is what it is. Resolving every file costs a syscall
            # per path component.
            key = os.path.abspath(real)
            if key not in seen:
                seen.add(key)
                yield display, real


def _walk(root: Path) -> Iterator[tuple[str, Path]]:
    base = _display(root)
    prefix = "" if base in (".", "") else base.rstrip("/") + "/"
    root_text = os.fspath(root)
    for dirpath, dirnames, filenames in os.walk(root, onerror=_raise):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel_dir = os.path.relpath(dirpath, root_text)
        rel_prefix = prefix if rel_dir == "." else prefix + Path(rel_dir).as_posix() + "/"
        for name in filenames:
            if name.startswith(".") or not name.endswith(RESOURCE_SUFFIXES):
                continue
            yield rel_prefix + name, Path(dirpath, name)


def _raise(exc: OSError) -> None:
    raise UsageError(f"cannot read directory {exc.filename}: {exc.strerror}") from exc


def _display(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:  # different drive (Windows)
        rel = str(path)
    return Path(rel).as_posix() if not rel.startswith("..") else path.as_posix()


def read_files(
    found: Iterable[tuple[str, Path]], *, max_size: int = DEFAULT_MAX_FILE_SIZE
) -> tuple[list[SourceFile], list[Diagnostic]]:
    """Read every file; unreadable or oversized ones become diagnostics."""
    files: list[SourceFile] = []
    diags: list[Diagnostic] = []
    for display, real in found:
        try:
            size = real.stat().st_size
            if size > max_size:
                diags.append(too_large(display, size, max_size))
                continue
            files.append(SourceFile(display, real.read_bytes()))
        except OSError as exc:
            diags.append(
                at_file(codes.FILE_UNREADABLE, display, f"cannot read file: {exc.strerror or exc}")
            )
    return files, diags


def too_large(path: str, size: int, max_size: int) -> Diagnostic:
    return at_file(
        codes.FILE_TOO_LARGE,
        path,
        f"file is {size} bytes, over the limit of {max_size} bytes (--max-file-size)",
    )


def decode(file: SourceFile) -> tuple[str | None, Diagnostic | None]:
    """UTF-8 text of the file (a BOM is allowed), or a diagnostic at the first bad byte."""
    try:
        return file.data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        before = file.data[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        return None, at_file(
            codes.FILE_NOT_UTF8,
            file.path,
            f"byte 0x{file.data[exc.start]:02x} is not valid UTF-8; save the file as UTF-8",
            line=line,
            col=col,
        )
