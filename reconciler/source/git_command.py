"""Running the ``git`` binary safely: argv lists, a clean environment, timeouts, no prompts.

Every call gets ``GIT_TERMINAL_PROMPT=0``, no system or global config, ``LC_ALL=C`` (so
error text can be classified), ``GIT_ALLOW_PROTOCOL`` (``https:ssh``, plus ``file`` only for
a local source) and a timeout after which the whole process group is killed. Failures
become :class:`GitSourceError` with a reason; credentials never reach a message.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.source.git_errors import GitSourceError, SourceReason
from reconciler.source.git_safety import redact

DEFAULT_TIMEOUT_S = 60.0
_PASSTHROUGH = (
    "PATH",
    "HOME",
    "SSH_AUTH_SOCK",
    "GIT_SSH_COMMAND",
    "GIT_ASKPASS",
    "HTTPS_PROXY",
    "https_proxy",
    "NO_PROXY",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
)
_SAFE_CONFIG = ("-c", "protocol.ext.allow=never", "-c", "core.fsmonitor=false")

_AUTH = (
    "authentication failed",
    "could not read username",
    "could not read password",
    "terminal prompts disabled",
    "permission denied (publickey",
    "host key verification failed",
    "returned error: 401",
    "returned error: 403",
)
_UNREACHABLE = (
    "does not appear to be a git repository",
    "could not resolve host",
    "connection refused",
    "connection timed out",
    "unable to access",
    "could not read from remote repository",
    "no such file or directory",
    "not found",
    "network is unreachable",
)
_CORRUPT = (
    "not a git repository",
    "bad object",
    "corrupt",
    "loose object",
    "packfile",
    "bad packed object",
    "unable to read",
    "missing blob object",
    "did not send all necessary objects",
    "invalid object",
    "object file",
    "index-pack failed",
)
_REFUSED = ("not allowed", "strange pathname")


def git_env(*, allow_file: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _PASSTHROUGH}
    env.setdefault("PATH", "/usr/bin:/bin")
    env.update(
        GIT_TERMINAL_PROMPT="0",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_ALLOW_PROTOCOL="https:ssh:file" if allow_file else "https:ssh",
        GIT_NO_REPLACE_OBJECTS="1",
        LC_ALL="C",
    )
    return env


@dataclass(frozen=True, slots=True)
class GitRunner:
    """Runs git in one repository (``git_dir`` for a bare cache, ``work_dir`` for a work tree)."""

    git_dir: str | None = None
    work_dir: str | None = None
    allow_file: bool = False
    timeout_s: float = DEFAULT_TIMEOUT_S

    def argv(self, args: Sequence[str]) -> list[str]:
        prefix = ["git", *_SAFE_CONFIG]
        if self.git_dir is not None:
            prefix.append(f"--git-dir={self.git_dir}")
        elif self.work_dir is not None:
            prefix += ["-C", self.work_dir]
        return [*prefix, *args]

    def run(self, args: Sequence[str], *, stdin: bytes | None = None, what: str = "git") -> bytes:
        """stdout of ``git <args>``; raises GitSourceError on failure or timeout."""
        try:
            proc = subprocess.Popen(
                self.argv(args),
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=git_env(allow_file=self.allow_file),
                cwd=self.work_dir or self.git_dir or None,
                start_new_session=True,
            )
        except OSError as exc:
            raise GitSourceError(
                SourceReason.GIT_FAILED, f"{what}: cannot run git: {exc.strerror or exc}"
            ) from exc
        try:
            out, err = proc.communicate(stdin, timeout=self.timeout_s)
        except subprocess.TimeoutExpired as exc:
            _kill_group(proc)
            raise GitSourceError(
                SourceReason.TIMEOUT, f"{what}: git did not finish within {self.timeout_s:g} s"
            ) from exc
        if proc.returncode != 0:
            raise classify(what, err.decode("utf-8", "replace"))
        return out


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.communicate()


def classify(what: str, stderr: str) -> GitSourceError:
    """A GitSourceError whose reason is read from git's (C locale) error text."""
    text = redact(stderr.strip())
    lines = [ln for ln in text.splitlines() if ln.strip()]
    detail = "; ".join(lines[-3:]) if lines else "git failed without a message"
    lowered = text.lower()
    reason = SourceReason.GIT_FAILED
    if any(s in lowered for s in _REFUSED):
        reason = SourceReason.REFUSED
    elif any(s in lowered for s in _AUTH):
        reason = SourceReason.AUTH
    elif any(s in lowered for s in _CORRUPT):
        reason = SourceReason.CORRUPTED_CACHE
    elif any(s in lowered for s in _UNREACHABLE):
        reason = SourceReason.UNREACHABLE
    return GitSourceError(reason, f"{what}: {detail}")
