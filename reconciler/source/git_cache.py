"""The bare repository cache of a git source under the state directory, with its lock.

One cache directory per remote URL (``<state>/git/<sha256(url)[:16]>.git``) and one
``fcntl.flock`` per cache: two fetches into one repository race on ``shallow.lock``. A cache
that git reports as damaged is deleted and created again.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reconciler.source.git_command import GitRunner
from reconciler.source.git_errors import GitSourceError, SourceReason

KEEP_PREFIX = "refs/reconciler/keep/"
"""Commits the journal may roll back to stay reachable here, safe from ``git gc``."""


def cache_dir_for(state_dir: Path, url: str) -> Path:
    return state_dir / "git" / f"{hashlib.sha256(url.encode()).hexdigest()[:16]}.git"


@contextmanager
def locked(cache_dir: Path, *, timeout_s: float) -> Iterator[None]:
    """Hold the cache's lock file; LOCKED error after ``timeout_s`` of waiting."""
    cache_dir.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(f"{cache_dir}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise GitSourceError(
                        SourceReason.LOCKED,
                        f"cache {cache_dir.name} is locked by another process",
                        hint="two servers must not share one --state-dir",
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def ensure(git: GitRunner, cache_dir: Path) -> None:
    """Create the bare cache if missing; recreate it if git cannot open it."""
    if cache_dir.exists():
        try:
            git.run(["rev-parse", "--git-dir"], what="open cache")
            return
        except GitSourceError:
            shutil.rmtree(cache_dir, ignore_errors=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    outside = GitRunner(allow_file=git.allow_file, timeout_s=git.timeout_s)
    outside.run(["init", "--bare", "--quiet", "--template=", str(cache_dir)], what="create cache")


def recreate(git: GitRunner, cache_dir: Path) -> None:
    shutil.rmtree(cache_dir, ignore_errors=True)
    ensure(git, cache_dir)


def has_commit(git: GitRunner, sha: str) -> bool:
    try:
        git.run(["cat-file", "-e", f"{sha}^{{commit}}"], what="look up commit")
    except GitSourceError as exc:
        if exc.reason in (SourceReason.TIMEOUT, SourceReason.LOCKED):
            raise
        return False
    return True


def keep(git: GitRunner, sha: str) -> None:
    git.run(["update-ref", f"{KEEP_PREFIX}{sha}", sha], what="keep commit")


def keep_and_drop(git: GitRunner, add: list[str], drop: list[str]) -> None:
    """Set the keep-refs of ``add`` and delete those of ``drop`` in one transaction (it
    fails whole, e.g. when a commit to keep is not in the cache)."""
    script = "".join(f"update {KEEP_PREFIX}{sha} {sha}\n" for sha in add)
    script += "".join(f"delete {KEEP_PREFIX}{sha}\n" for sha in drop)
    git.run(["update-ref", "--stdin"], stdin=script.encode(), what="keep commits")


def forget_except(git: GitRunner, shas: set[str]) -> None:
    """Drop the keep-refs of every commit not in ``shas``."""
    out = git.run(["for-each-ref", "--format=%(refname)", KEEP_PREFIX], what="list kept commits")
    stale = [r for r in out.decode().split() if r[len(KEEP_PREFIX) :] not in shas]
    if stale:
        script = "".join(f"delete {ref}\n" for ref in stale).encode()
        git.run(["update-ref", "--stdin"], stdin=script, what="forget commits")
