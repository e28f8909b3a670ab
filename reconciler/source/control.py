"""Fleet control: what every replica of a fleet serves, kept in the configuration repository.

``reconciler rollback|pause|resume --repo URL`` commit a small JSON document to a control ref
of the repository the servers follow (default ``refs/reconciler/control/<branch>``); every
``reconciler serve`` of the fleet reads that ref on each poll (the same ``git ls-remote`` that
looks at the branch) and obeys it:

* ``{"mode": "following"}`` (or no control ref): serve the branch's newest valid commit;
* ``{"mode": "paused", "revision": SHA}``: serve SHA (the branch head when the pause was
  asked for) and apply no newer commit;
* ``{"mode": "pinned", "revision": SHA}``: serve SHA, an earlier commit (a rollback).

A control commit names its author (who asked) and carries an optional ``reason``; its
parent is the previous control commit, so ``git log`` of the ref is the record of who
paused, rolled back and resumed the fleet, and when.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Protocol

from reconciler.errors import SourceError, UsageError
from reconciler.source import Revision

CONTROL_FILE = "control.json"
MODES = ("following", "paused", "pinned")
CONTROL_PREFIX = "refs/reconciler/control/"
MAX_CONTROL_BYTES = 64 * 1024
_SHA = re.compile(r"[0-9a-f]{40}")
_REF = re.compile(r"refs/[A-Za-z0-9][A-Za-z0-9._/-]*")


def default_control_ref(branch: str) -> str:
    """Each followed branch has its own control ref: fleets on other branches are not touched."""
    return CONTROL_PREFIX + branch


def check_control_ref(ref: str) -> str:
    """A full ref name under ``refs/`` (UsageError otherwise; never an option or a pattern)."""
    if (
        not _REF.fullmatch(ref)
        or ".." in ref
        or "//" in ref
        or ref.endswith(("/", ".", ".lock"))
        or "/." in ref
    ):
        raise UsageError(
            f"control ref {ref!r} is not a full ref name",
            hint=f"e.g. {CONTROL_PREFIX}main, or refs/heads/mesh-control for a protected branch",
        )
    return ref


class ControlError(SourceError):
    """The control ref holds something that is not a control document; the last known
    control keeps applying."""


@dataclass(frozen=True, slots=True)
class Control:
    """One control commit, as a replica read it."""

    mode: str
    revision: str | None
    reason: str
    by: str
    """The control commit's author, ``Name <email>``: who asked."""
    time: float
    """The control commit's time (Unix seconds)."""
    commit: str
    ref: str

    @property
    def holds(self) -> bool:
        """True when the branch is not followed (paused or pinned)."""
        return self.mode != "following"

    def describe(self) -> str:
        """Who or what made a replica serve what it serves (history, logs)."""
        verb = {"following": "resume", "paused": "pause", "pinned": "rollback"}[self.mode]
        why = f": {self.reason}" if self.reason else ""
        return f"{verb} by {self.by or 'unknown'} ({self.ref} {self.commit[:12]}){why}"

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "revision": self.revision,
            "reason": self.reason,
            "by": self.by,
            "time": self.time,
            "commit": self.commit,
            "ref": self.ref,
        }


def control_document(mode: str, revision: str | None, reason: str) -> bytes:
    """The bytes of ``control.json`` (keys sorted, one trailing newline)."""
    if mode not in MODES:
        raise UsageError(f"control mode {mode!r} is not one of {', '.join(MODES)}")
    body: dict[str, Any] = {"mode": mode, "reason": reason}
    if mode != "following":
        if revision is None or not _SHA.fullmatch(revision):
            raise UsageError(f"{mode}: {revision!r} is not a full commit id")
        body["revision"] = revision
    return (json.dumps(body, indent=2, sort_keys=True) + "\n").encode()


def parse_control(data: bytes, *, commit: str, ref: str, by: str, time: float) -> Control:
    """The control document of commit ``commit`` (ControlError for anything else)."""
    where = f"{CONTROL_FILE} of {ref} ({commit[:12]})"
    if len(data) > MAX_CONTROL_BYTES:
        raise ControlError(f"{where} is larger than {MAX_CONTROL_BYTES} bytes")
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ControlError(f"{where} is not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise ControlError(f"{where} is not a JSON object")
    mode, revision, reason = raw.get("mode"), raw.get("revision"), raw.get("reason", "")
    if mode not in MODES:
        raise ControlError(f"{where}: mode {mode!r} is not one of {', '.join(MODES)}")
    if not isinstance(reason, str):
        raise ControlError(f"{where}: reason is not a string")
    if mode != "following" and not (isinstance(revision, str) and _SHA.fullmatch(revision)):
        raise ControlError(f"{where}: mode {mode} needs a full commit id as revision")
    return Control(
        mode=mode,
        revision=revision if mode != "following" else None,
        reason=reason[:500],
        by=by,
        time=time,
        commit=commit,
        ref=ref,
    )


class Controlled(Protocol):
    """A source whose fleet control the reconcile loop obeys (a git source)."""

    def control(self) -> Control | None:
        """The control at the ref's tip as of the last ``fetch`` (None: no control ref, follow
        the branch). Contacts the remote only when the tip moved; raises SourceError."""
        ...

    def fetch_revision(self, sha: str) -> Revision:
        """Commit ``sha`` of the repository, from the cache or fetched (SourceError)."""
        ...
