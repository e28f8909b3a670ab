"""What holds a revision in place of the branch head: the local pin and the fleet control.

* the local **pin** (``reconciler rollback --to SHA`` on this host, kept in the journal):
  the pinned revision is served and the branch is not followed until ``reconciler resume``;
* the **fleet control** (a git source's control ref, ``reconciler.source.control``): read on
  every poll with the branch; while it pauses or pins, its revision is served instead of the
  branch head, on every replica. It is kept in the state dir, and the last one read applies
  while the ref cannot be read. A local pin wins over it (one host's emergency override).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from reconciler.errors import SourceError
from reconciler.journal import Journal, Pin
from reconciler.serve.history import load_control, save_control
from reconciler.source.control import Control, Controlled

log = logging.getLogger("reconciler.serve")


class Holds:
    def __init__(self, journal: Journal | None, control: Controlled | None) -> None:
        self.journal = journal
        self.control = control
        self.pin: Pin | None = None
        self.fleet: Control | None = (
            load_control(journal) if journal is not None and control is not None else None
        )
        """The fleet control last read (kept when the control ref cannot be read, and in the
        state dir for the next start)."""
        self.fleet_error: str | None = None
        self.resumed: Control | None = None
        """A fleet resume not yet followed by an applied revision (history names it)."""

    def read_pin(self) -> Pin | None:
        self.pin = self.journal.pin() if self.journal is not None else None
        return self.pin

    def held(self) -> Control | None:
        """The fleet control if it holds a revision (pause or rollback), else None."""
        return self.fleet if self.fleet is not None and self.fleet.holds else None

    def take_resumed(self) -> Control | None:
        """The resume that makes the branch apply now, once (history names it)."""
        resumed, self.resumed = self.resumed, None
        return resumed

    async def read_control(self) -> Control | None:
        """Read the fleet control (the last known one if it cannot be read); the control if
        it holds a revision, else None."""
        if self.control is None:
            return None
        before = self.fleet
        try:
            self.fleet = await asyncio.to_thread(self.control.control)
            self.fleet_error = None
        except SourceError as exc:
            self.fleet_error = str(exc)
            log.warning("fleet control unreadable, the last known one applies: %s", exc)
        now = self.fleet
        if (before.commit if before else None) != (now.commit if now else None):
            log.info("fleet control: %s", now.describe() if now else "no control ref: following")
            if self.journal is not None:
                try:
                    await asyncio.to_thread(save_control, self.journal, now)
                except OSError as exc:
                    log.warning("cannot keep the fleet control in the state dir: %s", exc)
            if before is not None and before.holds and (now is None or not now.holds):
                self.resumed = now
        return self.held()

    def status_json(self) -> dict[str, Any]:
        """The ``following``, ``pinned`` and ``control`` parts of ``/status``."""
        return {
            "following": self.pin is None and self.held() is None,
            "pinned": (
                {"sha": self.pin.sha, "time": self.pin.time, "reason": self.pin.reason}
                if self.pin
                else None
            ),
            "control": (
                {
                    **(self.fleet.to_json() if self.fleet else {"mode": "following"}),
                    "error": self.fleet_error,
                }
                if self.control is not None
                else None
            ),
        }
