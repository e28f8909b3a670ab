"""The state directory's record of applied revisions: journal, snapshot versions, pin.

Files (all written atomically: temporary file, fsync, rename):

* ``journal.jsonl``: the last N applied revisions, oldest first (sha, content hash, time,
  proxies affected, author, message). ``reconciler history`` prints it; a restarting server
  serves its last entry before the first fetch succeeds.
* ``versions.json``: snapshot version -> the commit that introduced it (the first applied
  revision that served that content, as far as this state directory knows). Versions are
  content hashes and never contain a commit; this is where a version is traced back to one
  (``/status`` shows it beside each proxy's versions). ``versions.log`` holds the changes
  since it was written (``[version, sha]`` added, ``[version, null]`` forgotten, one JSON
  array a line), so a revision appends a few lines instead of rewriting every version.
* ``pin.json``: written by ``reconciler rollback --to SHA``, removed by ``reconciler
  resume``. While it exists the server serves that revision and does not follow the branch.
* ``server.pid``: the serving process, which ``rollback``/``resume`` signal (SIGHUP).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

DEFAULT_KEEP = 20
MAX_VERSIONS = 20_000
COMPACT_EVERY = 5_000
"""Lines ``versions.log`` may hold before ``versions.json`` is written again whole."""


def default_state_dir() -> Path:
    """``--state-dir`` when not given: the user's state directory for ``reconciler``."""
    import platformdirs

    return Path(platformdirs.user_state_dir("reconciler"))


@dataclass(frozen=True, slots=True)
class JournalEntry:
    sha: str
    content_hash: str
    time: float
    proxies: tuple[str, ...] = ()
    """Proxies whose configuration this revision changed."""
    author: str = ""
    message: str = ""
    trigger: str = ""
    """Who or what made the server apply it: the branch, a restart, a local pin, or a fleet
    rollback/pause/resume with the control commit's author and reason."""

    def to_json(self) -> dict[str, Any]:
        raw = asdict(self)
        raw["proxies"] = list(self.proxies)
        return raw

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> JournalEntry:
        return cls(
            sha=str(raw["sha"]),
            content_hash=str(raw["content_hash"]),
            time=float(raw["time"]),
            proxies=tuple(str(p) for p in raw.get("proxies", ())),
            author=str(raw.get("author", "")),
            message=str(raw.get("message", "")),
            trigger=str(raw.get("trigger", "")),
        )


@dataclass(frozen=True, slots=True)
class Pin:
    sha: str
    time: float
    reason: str = ""


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Journal:
    """Applied revisions and version names kept in ``state_dir``."""

    def __init__(self, state_dir: str | os.PathLike[str], *, keep: int = DEFAULT_KEEP) -> None:
        self.dir = Path(state_dir).resolve()
        self.keep = keep
        self.path = self.dir / "journal.jsonl"
        self.versions_path = self.dir / "versions.json"
        self.pin_path = self.dir / "pin.json"
        self.pid_path = self.dir / "server.pid"
        self.versions_log_path = self.dir / "versions.log"
        self._introduced: dict[str, str] | None = None
        self._log_lines: int | None = None

    # -- applied revisions ------------------------------------------------------------
    def entries(self) -> list[JournalEntry]:
        """Oldest first; unreadable lines (a torn write from an old version) are skipped."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        found: list[JournalEntry] = []
        for line in lines:
            try:
                found.append(JournalEntry.from_json(json.loads(line)))
            except (ValueError, KeyError, TypeError):
                continue
        return found

    def last(self) -> JournalEntry | None:
        entries = self.entries()
        return entries[-1] if entries else None

    def record(self, entry: JournalEntry) -> list[JournalEntry]:
        """Append ``entry`` (the newest), keep the last ``keep``; returns the kept entries."""
        kept = [*self.entries(), entry][-self.keep :]
        text = "".join(json.dumps(e.to_json(), sort_keys=True) + "\n" for e in kept)
        write_atomic(self.path, text.encode())
        return kept

    def find(self, sha_prefix: str) -> JournalEntry | None:
        """The newest entry whose sha starts with ``sha_prefix`` (at least 4 hex digits)."""
        prefix = sha_prefix.lower()
        if len(prefix) < 4 or any(c not in "0123456789abcdef" for c in prefix):
            return None
        matches = [e for e in self.entries() if e.sha.startswith(prefix)]
        if len({e.sha for e in matches}) != 1:
            return None
        return matches[-1]

    # -- where versions came from -----------------------------------------------------
    def note_versions(self, versions: Iterable[str], sha: str) -> None:
        """Attribute each of ``versions`` not seen before to commit ``sha``.

        Called after a revision is applied with every version it serves. Those count as
        recently used; beyond :data:`MAX_VERSIONS` the least recently used are forgotten.
        The file grows by the versions added or forgotten (``versions.log``), and is
        written whole only every :data:`COMPACT_EVERY` such lines.
        """
        served = dict.fromkeys(versions)
        known = self._introduced_map()
        new = [v for v in served if v not in known]
        # a new mapping swapped in whole: readers on another thread never see it half-done
        kept = {v: s for v, s in known.items() if v not in served}
        kept.update((v, known.get(v, sha)) for v in served)
        forgotten: list[str] = []
        if len(kept) > MAX_VERSIONS:
            items = list(kept.items())
            forgotten = [v for v, _ in items[:-MAX_VERSIONS]]
            kept = dict(items[-MAX_VERSIONS:])
        self._introduced = kept
        if new or forgotten:
            lines: list[tuple[str, str | None]] = [(v, sha) for v in new]
            lines += [(v, None) for v in forgotten]
            self._append_versions(lines, kept)

    def _append_versions(self, lines: list[tuple[str, str | None]], kept: dict[str, str]) -> None:
        if self._log_lines is None:
            self._log_lines = _count_lines(self.versions_log_path)
        if self._log_lines + len(lines) > COMPACT_EVERY:
            write_atomic(self.versions_path, json.dumps(kept).encode())
            self.versions_log_path.unlink(missing_ok=True)
            self._log_lines = 0
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.versions_log_path, "ab") as fh:
            fh.write("".join(json.dumps(line) + "\n" for line in lines).encode())
            fh.flush()
            os.fsync(fh.fileno())
        self._log_lines += len(lines)

    def introduced_by(self, version: str) -> str | None:
        """The commit that introduced ``version``; None if this state dir never served it."""
        return self._introduced_map().get(version)

    def _introduced_map(self) -> dict[str, str]:
        if self._introduced is None:
            self._introduced = self._read_versions()
        return self._introduced

    def _read_versions(self) -> dict[str, str]:
        try:
            raw = json.loads(self.versions_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            raw = {}
        found = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
        try:
            log = self.versions_log_path.read_text(encoding="utf-8").splitlines()
        except (FileNotFoundError, ValueError):
            log = []
        for line in log:  # added [version, sha] or forgotten [version, null], in order
            try:
                version, sha = json.loads(line)
            except (ValueError, TypeError):
                continue  # a torn last line
            if sha is None:
                found.pop(str(version), None)
            else:
                found.setdefault(str(version), str(sha))
        return found

    # -- rollback pin -----------------------------------------------------------------
    def pin(self) -> Pin | None:
        try:
            raw = json.loads(self.pin_path.read_text(encoding="utf-8"))
            return Pin(sha=str(raw["sha"]), time=float(raw["time"]), reason=str(raw["reason"]))
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return None

    def set_pin(self, sha: str, reason: str = "") -> Pin:
        pin = Pin(sha=sha, time=time.time(), reason=reason)
        write_atomic(self.pin_path, json.dumps(asdict(pin)).encode())
        return pin

    def clear_pin(self) -> bool:
        """Remove the pin; False if there was none."""
        try:
            self.pin_path.unlink()
        except FileNotFoundError:
            return False
        return True

    # -- the serving process ----------------------------------------------------------
    def write_pid(self) -> None:
        write_atomic(self.pid_path, f"{os.getpid()}\n".encode())

    def server_pid(self) -> int | None:
        try:
            return int(self.pid_path.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def clear_pid(self) -> None:
        if self.server_pid() == os.getpid():
            self.pid_path.unlink(missing_ok=True)


def _count_lines(path: Path) -> int:
    try:
        with open(path, "rb") as fh:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 16), b""))
    except FileNotFoundError:
        return 0
