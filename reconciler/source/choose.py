"""Which source serves ``reconciler serve REPO``: git (a URL or a repository) or a directory.

* a URL (``https://``, ``ssh://``, ``user@host:path``, ``file://``) -> :class:`GitSource`;
* a local directory that is a repository (``.git`` inside, or a bare repository) -> git,
  following ``--branch``; with ``--watch`` its working tree is served as files instead;
* any other directory or file -> :class:`DirectorySource`, exactly as before.
"""

from __future__ import annotations

import os
from pathlib import Path

from reconciler.source import Source
from reconciler.source.directory import DirectorySource
from reconciler.source.git import GitSource
from reconciler.source.git_command import DEFAULT_TIMEOUT_S
from reconciler.source.git_safety import check_subpath


def is_url(text: str) -> bool:
    return "://" in text or (not Path(text).exists() and ":" in text and not text.startswith("/"))


def is_git_repository(path: Path) -> bool:
    """A work tree's top level or a bare repository (a sub-directory of a repo is not)."""
    if (path / ".git").exists():
        return True
    return (path / "HEAD").is_file() and (path / "objects").is_dir() and (path / "refs").is_dir()


def open_source(
    repo: str,
    *,
    state_dir: str | os.PathLike[str],
    branch: str = "main",
    subpath: str | None = None,
    watch: bool = False,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    control_ref: str | None = None,
) -> Source:
    """The source for ``repo`` (see the module docstring); raises UnsafeSourceError or UsageError.

    ``control_ref``: the fleet control ref a git source reads with its branch (ignored for a
    directory)."""
    if is_url(repo) or (not watch and Path(repo).is_dir() and is_git_repository(Path(repo))):
        return GitSource(
            repo,
            state_dir=state_dir,
            branch=branch,
            subpath=subpath,
            timeout_s=timeout_s,
            control_ref=control_ref,
        )
    root = Path(repo)
    where = check_subpath(subpath)
    return DirectorySource([root / where if where else root], root=root)
