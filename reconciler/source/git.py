"""A git repository as a source: commits of one branch, read from objects, never checked out.

:class:`GitSource` follows ``--branch`` of a URL or local repository through a bare cache in
the state directory: ``git ls-remote`` first (nothing else runs when the branch did not move),
then a shallow fetch of the new commit, then one ``diff-tree`` against the commit read last
and the new objects only, read directly when the fetch left them loose, else with
``cat-file`` (the first commit: one ``ls-tree`` and one ``cat-file --batch``); files of
unchanged paths are the previous revision's objects. :func:`read_commit_files`
reads any commit of a local repository (``reconciler diff --repo``). Plain ``git`` processes
with argv lists only; GitPython is not used (not thread-safe, leaks in daemons).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from reconciler.load import DEFAULT_MAX_FILE_SIZE, SourceFile
from reconciler.source import Revision
from reconciler.source.control import Control, check_control_ref
from reconciler.source.control_git import read_control
from reconciler.source.git_cache import cache_dir_for, ensure, has_commit, locked, recreate
from reconciler.source.git_cache import forget_except as _forget_except
from reconciler.source.git_cache import keep as _keep
from reconciler.source.git_cache import keep_and_drop as _keep_and_drop
from reconciler.source.git_command import DEFAULT_TIMEOUT_S, GitRunner
from reconciler.source.git_errors import GitSourceError, SourceReason
from reconciler.source.git_objects import CommitFiles, read_changes, read_commit, resolve_commit
from reconciler.source.git_safety import (
    check_branch,
    check_rev,
    check_subpath,
    normalize_url,
    redact,
)

__all__ = ["GitSource", "read_commit_files", "read_local_commit"]

CONTROL_TRACKING_REF = "refs/reconciler/control-tip"
GC_EVERY = 10
"""``gc --auto`` runs after this many keep-refs were dropped (its thresholds are thousands
of loose objects, so running it after every revision found nothing to do)."""


def read_local_commit(
    repo_dir: str | os.PathLike[str], rev: str, subpath: str | None = None
) -> CommitFiles:
    """Files (with symlink/submodule warnings and commit meta) of ``rev`` in a local repo."""
    git = GitRunner(work_dir=os.fspath(repo_dir), allow_file=True)
    where = check_subpath(subpath)
    return read_commit(git, resolve_commit(git, check_rev(rev)), where)


def read_commit_files(
    repo_dir: str | os.PathLike[str], rev: str, subpath: str | None = None
) -> tuple[str, list[SourceFile]]:
    """``(commit sha, files under subpath)`` of ``rev`` in the local repository ``repo_dir``.

    Paths are relative to the repository root (also under ``subpath``); each file's digest is its blob id. Symlinks and
    submodules are left out (:func:`read_local_commit` also returns warnings for them).
    Raises GitSourceError (UnsafeSourceError for a rev or path that looks hostile).
    """
    commit = read_local_commit(repo_dir, rev, subpath)
    return commit.sha, list(commit.files)


class GitSource:
    """Follows one branch of a repository; implements the ``Source`` protocol."""

    def __init__(
        self,
        url_or_path: str,
        *,
        state_dir: str | os.PathLike[str],
        branch: str = "main",
        subpath: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        depth: int = 1,
        max_file_size: int = DEFAULT_MAX_FILE_SIZE,
        control_ref: str | None = None,
    ) -> None:
        self.url, local = normalize_url(url_or_path)
        self.control_ref = check_control_ref(control_ref) if control_ref else None
        """The fleet's control ref (``reconciler.source.control``), read with the branch."""
        self.branch = check_branch(branch)
        self.subpath = check_subpath(subpath)
        self.depth = depth
        self.max_file_size = max_file_size
        self.cache_dir = cache_dir_for(Path(state_dir).resolve(), self.url)
        self.git = GitRunner(git_dir=str(self.cache_dir), allow_file=local, timeout_s=timeout_s)
        self.last_success_time: float | None = None
        """Unix time the remote last answered (ls-remote), None before the first answer."""
        self._mutex = threading.Lock()
        self._last: Revision | None = None
        self._base: CommitFiles | None = None
        """The commit read last: the next one is read as its difference from this one."""
        self._control_tip: str | None = None
        """The control ref's commit as of the last ls-remote (None: no such ref)."""
        self._control: Control | None = None
        self._kept: set[str] | None = None
        """Commits this process set a keep-ref for (None: not known yet)."""
        self._dropped = 0
        """Keep-refs dropped since ``gc --auto`` last ran."""

    @property
    def remote_ref(self) -> str:
        return f"refs/heads/{self.branch}"

    @property
    def tracking_ref(self) -> str:
        return f"refs/remotes/origin/{self.branch}"

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "git",
            "url": redact(self.url),
            "branch": self.branch,
            "path": self.subpath,
            "lastSuccessTime": self.last_success_time,
        }

    def remote_head(self) -> str:
        """The commit the branch points at on the remote (``git ls-remote``, no fetch); the
        same call notes where the control ref points."""
        refs = [self.remote_ref, *([self.control_ref] if self.control_ref else [])]
        out = self.git.run(["ls-remote", "--end-of-options", self.url, *refs], what="ls-remote")
        self.last_success_time = time.time()
        heads: dict[str, str] = {}
        for line in out.decode().splitlines():
            sha, _, ref = line.partition("\t")
            heads[ref] = sha
        self._control_tip = heads.get(self.control_ref) if self.control_ref else None
        if self.remote_ref in heads:
            return heads[self.remote_ref]
        raise GitSourceError(
            SourceReason.BRANCH_DELETED,
            f"branch {self.branch!r} does not exist in {redact(self.url)}",
            hint="the last applied revision keeps serving until the branch exists again",
        )

    def fetch(self, expected: str | None = None) -> Revision:
        """The branch's newest commit; returns the previous Revision object if it did not move.

        ``expected``: the commit a signed push event announced (``after``). The branch is
        then fetched at once, without the ``ls-remote`` round trip that asks where it
        points (nothing at all when it is the commit already served). What is applied is
        always what the fetch brought, never the announced id itself: an older or forged
        ``after`` cannot move the served revision backwards. With a fleet control ref the
        ``ls-remote`` still runs (it also reads where the control ref points).
        """
        with self._mutex, locked(self.cache_dir, timeout_s=self.git.timeout_s):
            if self._last is None:
                ensure(self.git, self.cache_dir)
            sha: str | None = None
            # with a fleet control ref, the ls-remote also says where the control points
            if expected is not None and self.control_ref is None and _is_commit_id(expected):
                if self._last is not None and self._last.id == expected:
                    return self._last
            else:
                sha = self.remote_head()
                if self._last is not None and self._last.id == sha:
                    return self._last
            try:
                revision = self._fetch_and_read(sha)
            except GitSourceError as exc:
                if sha is None and exc.reason in _ASK_THE_REMOTE:
                    # e.g. the branch was deleted: ls-remote names the reason
                    sha = self.remote_head()
                    revision = self._fetch_and_read(sha)
                elif exc.reason is not SourceReason.CORRUPTED_CACHE:
                    raise
                else:
                    recreate(self.git, self.cache_dir)
                    self._base = None
                    self._kept = None
                    revision = self._fetch_and_read(sha)
            if self._last is not None and self._last.id == revision.id:
                return self._last
            self._remember(revision)
            return revision

    def read(self, sha: str) -> Revision:
        """A commit already in the cache (a journal entry), without contacting the remote."""
        with self._mutex, locked(self.cache_dir, timeout_s=self.git.timeout_s):
            ensure(self.git, self.cache_dir)
            if not has_commit(self.git, check_rev(sha)):
                raise GitSourceError(
                    SourceReason.GIT_FAILED, f"commit {sha} is not in the local cache"
                )
            revision = self._read(resolve_commit(self.git, sha))
            self._remember(revision)
            return revision

    def control(self) -> Control | None:
        """The fleet control as of the last :meth:`fetch` (None: no control ref); fetches the
        control commit only when the ref moved. Raises SourceError (ControlError for a
        control commit that holds no valid document)."""
        tip = self._control_tip
        if tip is None or self.control_ref is None:
            self._control = None
            return None
        if self._control is not None and self._control.commit == tip:
            return self._control
        with self._mutex, locked(self.cache_dir, timeout_s=self.git.timeout_s):
            ensure(self.git, self.cache_dir)
            if not has_commit(self.git, tip):
                self._fetch_shallow(f"+{self.control_ref}:{CONTROL_TRACKING_REF}")
            self._control = read_control(self.git, tip, self.control_ref)
            return self._control

    def fetch_revision(self, sha: str) -> Revision:
        """Commit ``sha`` (a fleet pin): from the cache, else fetched by id from the remote."""
        with self._mutex, locked(self.cache_dir, timeout_s=self.git.timeout_s):
            ensure(self.git, self.cache_dir)
            if not has_commit(self.git, check_rev(sha)):
                self._fetch_shallow(sha)
            revision = self._read(resolve_commit(self.git, sha))
            self._remember(revision)
            return revision

    def _fetch_shallow(self, what: str) -> None:
        self.git.run(
            [
                "fetch",
                "--quiet",
                "--no-tags",
                "--no-write-fetch-head",
                "--no-recurse-submodules",
                "--no-auto-maintenance",
                "--depth=1",
                "--end-of-options",
                self.url,
                what,
            ],
            what="fetch",
        )

    def keep(self, shas: set[str]) -> None:
        """Keep exactly ``shas`` (the journal's commits) safe from garbage collection.

        The first call in a process sets every keep-ref; later calls add the new commits
        and drop the ones that left in one ``update-ref`` transaction (a revision applied:
        one git command, not two per journal entry). ``gc --auto`` runs on the first call
        and then after every :data:`GC_EVERY` commits dropped.
        """
        with self._mutex, locked(self.cache_dir, timeout_s=self.git.timeout_s):
            if self._kept is None:
                ensure(self.git, self.cache_dir)
                kept = set()
                for sha in sorted(shas):
                    if has_commit(self.git, sha):
                        _keep(self.git, sha)
                        kept.add(sha)
                _forget_except(self.git, shas)
                self.git.run(["gc", "--auto", "--quiet"], what="gc")
                self._kept = kept
                return
            known = self._kept
            added = sorted(shas - known)
            dropped = sorted(known - shas)
            if not added and not dropped:
                return
            try:
                _keep_and_drop(self.git, added, dropped)
                kept = (known - set(dropped)) | set(added)
            except GitSourceError as exc:
                if exc.reason in (SourceReason.TIMEOUT, SourceReason.LOCKED):
                    raise
                # a commit that is not in the cache: one at a time, as on the first call
                kept = {sha for sha in shas if sha in known}
                for sha in added:
                    if has_commit(self.git, sha):
                        _keep(self.git, sha)
                        kept.add(sha)
                _forget_except(self.git, shas)
            self._kept = kept
            self._dropped += len(dropped)
            if self._dropped >= GC_EVERY:
                self._dropped = 0
                self.git.run(["gc", "--auto", "--quiet"], what="gc")

    def _fetch_and_read(self, sha: str | None) -> Revision:
        """Read commit ``sha``, fetching the branch first unless it is already here
        (``None``: fetch the branch and read what it points at)."""
        if sha is None or not has_commit(self.git, sha):
            self.git.run(
                [
                    "fetch",
                    "--quiet",
                    "--no-tags",
                    "--no-write-fetch-head",
                    "--no-recurse-submodules",
                    "--no-auto-maintenance",  # gc runs in keep(), after a publish
                    f"--depth={self.depth}",
                    "--end-of-options",
                    self.url,
                    f"+{self.remote_ref}:{self.tracking_ref}",
                ],
                what="fetch",
            )
            self.last_success_time = time.time()
            sha = self._tracking_head()
        return self._read(sha)

    def _tracking_head(self) -> str:
        """Where the tracking ref points: read from the loose ref file the fetch just wrote
        (no ``rev-parse`` process), else asked to git (a packed or symbolic ref)."""
        try:
            text = (self.cache_dir / self.tracking_ref).read_text("ascii").strip()
        except (OSError, UnicodeDecodeError):
            text = ""
        return text if _is_commit_id(text) else resolve_commit(self.git, self.tracking_ref)

    def _read(self, sha: str) -> Revision:
        base, commit = self._base, None
        if base is not None and base.sha == sha:
            commit = base
        elif base is not None:
            try:  # the paths that differ from the commit read last, and their new blobs
                commit = read_changes(
                    self.git, base, sha, self.subpath, max_file_size=self.max_file_size
                )
            except GitSourceError as exc:
                if exc.reason in (SourceReason.TIMEOUT, SourceReason.LOCKED):
                    raise
                commit = None  # e.g. that commit is gone from the cache: read it all
        if commit is None:
            known = {f.oid: f.data for f in base.files if f.oid} if base is not None else {}
            commit = read_commit(
                self.git, sha, self.subpath, known=known, max_file_size=self.max_file_size
            )
        self._base = commit
        meta = {**commit.meta, "branch": self.branch}
        return Revision(
            id=commit.sha, files=commit.files, diagnostics=commit.diagnostics, meta=meta
        )

    def _remember(self, revision: Revision) -> None:
        self._last = revision


_ASK_THE_REMOTE = frozenset({SourceReason.GIT_FAILED, SourceReason.BRANCH_DELETED})
"""A fetch of an announced push that failed for one of these is retried the usual way
(``ls-remote`` first, which says e.g. that the branch no longer exists)."""


def _is_commit_id(text: str) -> bool:
    """A full SHA-1 or SHA-256 commit id, not the all-zero id of a deleted branch."""
    return (
        len(text) in (40, 64)
        and all(c in "0123456789abcdef" for c in text)
        and text.strip("0") != ""
    )
