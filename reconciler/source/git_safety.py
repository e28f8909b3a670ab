"""Checks on every user-supplied string that reaches git: URLs, branch names, sub-paths.

Git options are never built from user strings (denylists of options do not hold); these
checks are the allow-lists in front of the ``--end-of-options`` guard in every git call.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from reconciler.source.git_errors import UnsafeSourceError

ALLOWED_SCHEMES = ("https", "ssh", "file")
_SCP_LIKE = re.compile(r"^(?:[A-Za-z0-9._~-]+@)?[A-Za-z0-9.-]+:(?!//)[^\s]*$")
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]*@")


def redact(text: str) -> str:
    """``text`` with any ``scheme://user:secret@`` replaced by ``scheme://***@``."""
    return _USERINFO.sub(r"\g<scheme>***@", text)


def normalize_url(url_or_path: str) -> tuple[str, bool]:
    """``(url for git, is_local)`` for an allowed URL or an existing local directory.

    Allowed: ``https://``, ``ssh://``, scp-like ``user@host:path``, ``file://`` and local paths.
    Refused: anything starting with ``-``, transport helpers (``ext::``, ``fd::``), other
    schemes, control characters. A local path becomes an absolute ``file://`` URL.
    """
    if not url_or_path or url_or_path.startswith("-"):
        raise UnsafeSourceError(f"refused repository URL {redact(url_or_path)!r}: starts with '-'")
    if any(ord(ch) < 0x20 or ch == "\x7f" for ch in url_or_path):
        raise UnsafeSourceError("refused repository URL: it contains control characters")
    if "::" in url_or_path:
        raise UnsafeSourceError(
            f"refused repository URL {redact(url_or_path)!r}: transport helpers ('ext::', 'fd::') "
            "are not allowed",
            hint="use https://, ssh:// or a local path",
        )
    if "://" in url_or_path:
        scheme = urlsplit(url_or_path).scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            raise UnsafeSourceError(
                f"refused repository URL {redact(url_or_path)!r}: scheme {scheme!r} is not allowed",
                hint="allowed: https://, ssh://, file:// or a local path",
            )
        return url_or_path, scheme == "file"
    path = Path(url_or_path)
    if path.exists() or url_or_path.startswith(("/", "./", "../")):
        # a local repository may be missing for a while (unreachable, not refused)
        return path.resolve().as_uri(), True
    if _SCP_LIKE.match(url_or_path):
        return url_or_path, False
    raise UnsafeSourceError(
        f"repository {redact(url_or_path)!r} is neither an allowed URL nor an existing directory",
        hint="allowed: https://, ssh://, user@host:path, file:// or a local path",
    )


def check_branch(branch: str) -> str:
    """The branch name if ``git check-ref-format`` accepts ``refs/heads/<branch>``."""
    if not branch or branch.startswith("-") or branch == "HEAD" or "@{" in branch:
        raise UnsafeSourceError(f"refused branch name {branch!r}")
    try:
        result = subprocess.run(
            ["git", "check-ref-format", f"refs/heads/{branch}"],
            capture_output=True,
            timeout=10,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"},
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UnsafeSourceError(f"cannot check branch name {branch!r}: {exc}") from exc
    if result.returncode != 0:
        raise UnsafeSourceError(
            f"refused branch name {branch!r}: not a valid git ref name (git check-ref-format)"
        )
    return branch


def check_subpath(subpath: str | None) -> str:
    """A normalized repository-relative directory ('' for the root); refuses escapes."""
    if subpath is None or subpath in ("", ".", "/"):
        return ""
    if subpath.startswith("-") or "\\" in subpath or any(ord(c) < 0x20 for c in subpath):
        raise UnsafeSourceError(f"refused path {subpath!r}")
    pure = PurePosixPath(subpath.rstrip("/"))
    if pure.is_absolute() or any(part in ("..", ".git") for part in pure.parts):
        raise UnsafeSourceError(
            f"refused path {subpath!r}: it must stay inside the repository (no '..', no '.git')"
        )
    parts = [p for p in pure.parts if p != "."]
    return "/".join(parts)


def check_rev(rev: str) -> str:
    """A revision expression for a local repository; must not look like an option."""
    if not rev or rev.startswith("-") or any(ord(c) < 0x20 for c in rev):
        raise UnsafeSourceError(f"refused revision {rev!r}")
    return rev
