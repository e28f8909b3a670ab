"""Reading a commit's files from git objects: one ``ls-tree`` and one ``cat-file --batch``;
for a commit that follows one already read, one ``diff-tree`` and the new objects only
(loose ones read directly, :mod:`~reconciler.source.git_loose`).

Nothing is checked out, so no filter, hook or submodule of an untrusted tree runs. Files carry
their blob id as digest, so per-file analysis results are shared by every commit (and every
directory read) that holds the same content.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler import codes
from reconciler.diagnostics import Diagnostic, at_file
from reconciler.load import SourceFile
from reconciler.load.files import DEFAULT_MAX_FILE_SIZE, is_resource_path, too_large
from reconciler.source.git_command import GitRunner
from reconciler.source.git_errors import GitSourceError, SourceReason
from reconciler.source.git_loose import read_loose

_SYMLINK = "120000"
_GITLINK = "160000"
_ABSENT = "000000"


@dataclass(frozen=True, slots=True)
class TreeEntry:
    mode: str
    kind: str
    oid: str
    path: str
    """Relative to the sub-path that was listed."""
    size: int = 0


@dataclass(frozen=True, slots=True)
class CommitFiles:
    sha: str
    files: tuple[SourceFile, ...]
    diagnostics: tuple[Diagnostic, ...] = ()
    meta: dict[str, str] = field(default_factory=dict)


def resolve_commit(git: GitRunner, rev: str) -> str:
    """The full commit id of ``rev`` (user text goes after ``--end-of-options``)."""
    try:
        out = git.run(
            ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"],
            what=f"resolve {rev!r}",
        )
    except GitSourceError as exc:
        if exc.reason is not SourceReason.GIT_FAILED:
            raise
        raise GitSourceError(
            SourceReason.GIT_FAILED, f"revision {rev!r} is not a commit in this repository"
        ) from exc
    sha = out.decode().strip()
    if not sha:
        raise GitSourceError(SourceReason.GIT_FAILED, f"revision {rev!r} is not a commit")
    return sha


def list_tree(git: GitRunner, sha: str, subpath: str) -> list[TreeEntry]:
    """Every entry under ``subpath`` of commit ``sha`` (recursively); paths stay relative to
    the repository root, as every diagnostic names them."""
    args = ["ls-tree", "-r", "-z", "--long", "--full-tree", sha]
    if subpath:
        args += ["--", f"{subpath}/"]
    raw = git.run(args, what="list files")
    prefix = f"{subpath}/" if subpath else ""
    entries: list[TreeEntry] = []
    for record in raw.split(b"\0"):
        if not record:
            continue
        head, _, path_bytes = record.partition(b"\t")
        mode, kind, oid, size = head.decode().split()
        path = path_bytes.decode("utf-8", "surrogateescape")
        if prefix and not path.startswith(prefix):
            continue
        entries.append(TreeEntry(mode, kind, oid, path, int(size) if size.isdigit() else 0))
    return entries


def read_objects(git: GitRunner, oids: list[str]) -> dict[str, tuple[str, bytes]]:
    """``{oid: (type, bytes)}`` for ``oids`` through one ``git cat-file --batch``."""
    unique = list(dict.fromkeys(oids))
    if not unique:
        return {}
    raw = git.run(["cat-file", "--batch"], stdin="".join(f"{o}\n" for o in unique).encode())
    found: dict[str, tuple[str, bytes]] = {}
    pos = 0
    for oid in unique:
        nl = raw.index(b"\n", pos)
        header = raw[pos:nl].decode().split(" ")
        if len(header) != 3:
            raise GitSourceError(
                SourceReason.CORRUPTED_CACHE, f"object {oid} is missing from the repository"
            )
        size = int(header[2])
        start = nl + 1
        found[oid] = (header[1], raw[start : start + size])
        pos = start + size + 1
    return found


def commit_meta(raw: bytes) -> dict[str, str]:
    """author, email, time (author's, unix seconds), committed (committer's, unix seconds)
    and the subject line of a raw commit object."""
    head, _, message = raw.partition(b"\n\n")
    meta = {"message": message.decode("utf-8", "replace").split("\n", 1)[0].strip()}
    for line in head.decode("utf-8", "replace").splitlines():
        if line.startswith("author "):
            who, _, when = line[len("author ") :].rpartition(">")
            name, _, email = who.partition("<")
            meta["author"] = name.strip()
            meta["email"] = email.strip()
            meta["time"] = when.strip().split(" ")[0]
        elif line.startswith("committer "):
            meta["committed"] = line.rpartition(">")[2].strip().split(" ")[0]
    return meta


def read_commit(
    git: GitRunner,
    sha: str,
    subpath: str,
    *,
    known: Mapping[str, bytes] | None = None,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
) -> CommitFiles:
    """Resource files of commit ``sha`` under ``subpath``; ``known`` maps blob ids to bytes
    already read (from an earlier commit), which are not read again.

    Symlinks and submodules are not followed: each becomes a warning, never a silent skip;
    a blob over ``max_file_size`` is not read at all (an RC112 error).
    """
    entries = list_tree(git, sha, subpath)
    known = known or {}
    diags: list[Diagnostic] = []
    wanted: list[TreeEntry] = []
    for entry in entries:
        if not is_resource_path(entry.path):
            continue
        if entry.mode == _SYMLINK or entry.mode == _GITLINK:
            code = codes.SOURCE_SYMLINK if entry.mode == _SYMLINK else codes.SOURCE_SUBMODULE
            what = "a symbolic link" if entry.mode == _SYMLINK else "a submodule"
            diags.append(at_file(code, entry.path, f"{what} in the commit is not followed"))
            continue
        if entry.kind == "blob" and entry.size > max_file_size:
            diags.append(too_large(entry.path, entry.size, max_file_size))  # never read
        elif entry.kind == "blob":
            wanted.append(entry)
    objects = read_objects(git, [sha, *(e.oid for e in wanted if e.oid not in known)])
    kind, raw_commit = objects[sha]
    if kind != "commit":
        raise GitSourceError(SourceReason.GIT_FAILED, f"{sha} is a {kind}, not a commit")
    files = [
        SourceFile(e.path, known[e.oid] if e.oid in known else objects[e.oid][1], oid=e.oid)
        for e in wanted
    ]
    files.sort(key=lambda f: f.path)
    return CommitFiles(sha, tuple(files), tuple(diags), commit_meta(raw_commit))


def read_changes(
    git: GitRunner,
    base: CommitFiles,
    sha: str,
    subpath: str,
    *,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
) -> CommitFiles:
    """What :func:`read_commit` returns for commit ``sha``, derived from ``base`` (an
    earlier commit read in full or this way) and the paths that differ between the two:
    one ``diff-tree`` (git skips the subtrees both commits share), then the sizes and the
    bytes of the new blobs only: read directly when the fetch left them loose, else with
    ``cat-file``. The work follows the change, not the size of the tree. Files of unchanged
    paths are ``base``'s own objects."""
    changed = diff_tree(git, base.sha, sha, subpath)
    gone = set(changed)
    diags = [d for d in base.diagnostics if d.file not in gone]
    fresh: list[TreeEntry] = []
    for path, entry in changed.items():
        if entry is None or not is_resource_path(path):
            continue
        if entry.mode == _SYMLINK or entry.mode == _GITLINK:
            code = codes.SOURCE_SYMLINK if entry.mode == _SYMLINK else codes.SOURCE_SUBMODULE
            what = "a symbolic link" if entry.mode == _SYMLINK else "a submodule"
            diags.append(at_file(code, entry.path, f"{what} in the commit is not followed"))
        else:
            fresh.append(entry)
    loose = _loose(git, [(sha, _COMMIT_MAX), *((e.oid, max_file_size) for e in fresh)])
    sizes = {oid: size for oid, (_, size, _) in loose.items()}
    sizes.update(object_sizes(git, [e.oid for e in fresh if e.oid not in loose]))
    wanted: list[TreeEntry] = []
    for entry in fresh:
        if sizes[entry.oid] > max_file_size:
            diags.append(too_large(entry.path, sizes[entry.oid], max_file_size))  # never read
        else:
            wanted.append(entry)
    objects = {oid: (kind, data) for oid, (kind, _, data) in loose.items() if data is not None}
    objects.update(
        read_objects(git, [o for o in (sha, *(e.oid for e in wanted)) if o not in objects])
    )
    kind, raw_commit = objects[sha]
    if kind != "commit":
        raise GitSourceError(SourceReason.GIT_FAILED, f"{sha} is a {kind}, not a commit")
    files = [f for f in base.files if f.path not in gone] if gone else list(base.files)
    for entry in wanted:
        bisect.insort(
            files, SourceFile(entry.path, objects[entry.oid][1], oid=entry.oid), key=_path
        )
    # read_commit's order: the tree's, which for full paths is their byte order
    diags.sort(key=lambda d: (d.file or "").encode("utf-8", "surrogateescape"))
    return CommitFiles(sha, tuple(files), tuple(diags), commit_meta(raw_commit))


_COMMIT_MAX = 1 << 20
"""A commit object larger than this is read by ``cat-file`` rather than inflated here."""


def _loose(
    git: GitRunner, wanted: list[tuple[str, int]]
) -> dict[str, tuple[str, int, bytes | None]]:
    """The loose objects among ``wanted`` ((oid, largest size to read)), read directly."""
    if git.git_dir is None:
        return {}
    found: dict[str, tuple[str, int, bytes | None]] = {}
    for oid, limit in wanted:
        hit = read_loose(git.git_dir, oid, limit)
        if hit is not None:
            found[oid] = hit
    return found


def diff_tree(git: GitRunner, old: str, new: str, subpath: str) -> dict[str, TreeEntry | None]:
    """Every path under ``subpath`` whose entry differs between commits ``old`` and ``new``:
    its new entry (size not known: 0), or None when ``new`` has no such path."""
    args = ["diff-tree", "-r", "-z", "--no-renames", "--end-of-options", old, new]
    if subpath:
        args += ["--", f"{subpath}/"]
    raw = git.run(args, what="list changed files")
    prefix = f"{subpath}/" if subpath else ""
    fields = raw.split(b"\0")
    out: dict[str, TreeEntry | None] = {}
    for i in range(0, len(fields) - 1, 2):
        head, path_bytes = fields[i], fields[i + 1]
        if not head.startswith(b":"):
            raise GitSourceError(SourceReason.GIT_FAILED, "unexpected diff-tree output")
        _old_mode, mode, _old_oid, oid, _status = head[1:].decode().split(" ")
        path = path_bytes.decode("utf-8", "surrogateescape")
        if prefix and not path.startswith(prefix):
            continue
        if mode == _ABSENT:
            out[path] = None
        else:
            out[path] = TreeEntry(mode, "commit" if mode == _GITLINK else "blob", oid, path)
    return out


def object_sizes(git: GitRunner, oids: list[str]) -> dict[str, int]:
    """``{oid: size in bytes}`` through one ``git cat-file --batch-check`` (no content read)."""
    unique = list(dict.fromkeys(oids))
    if not unique:
        return {}
    raw = git.run(["cat-file", "--batch-check"], stdin="".join(f"{o}\n" for o in unique).encode())
    sizes: dict[str, int] = {}
    for oid, line in zip(unique, raw.decode().splitlines(), strict=False):
        header = line.split(" ")
        if len(header) != 3:
            raise GitSourceError(
                SourceReason.CORRUPTED_CACHE, f"object {oid} is missing from the repository"
            )
        sizes[oid] = int(header[2])
    if len(sizes) != len(unique):
        raise GitSourceError(SourceReason.GIT_FAILED, "cat-file --batch-check answered short")
    return sizes


def _path(file: SourceFile) -> str:
    return file.path
