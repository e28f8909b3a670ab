"""``reconciler serve`` as a real process on ephemeral 127.0.0.1 ports, read over HTTP."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from polling import wait_for

RECONCILER = Path(sys.executable).parent / "reconciler"


class Server:
    """``reconciler serve REPO --state-dir STATE [ARGS]``, logging to ``log``."""

    def __init__(
        self, repo: Path, state: Path, log: Path, args: Sequence[str] = ("--path", "mesh")
    ) -> None:
        self.log_path = log
        self.log = log.open("wb")
        self.process = subprocess.Popen(
            [
                str(RECONCILER),
                "serve",
                repo.as_uri(),
                *args,
                "--state-dir",
                str(state),
                "--interval",
                "1h",
                "--xds-address",
                "127.0.0.1:0",
                "--http-address",
                "127.0.0.1:0",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        found = wait_for(
            lambda: re.search(r"xDS on port (\d+), status on http://([\d.:]+)/", self.text()),
            60,
            "start",
        )
        self.xds_port = int(found.group(1))
        self.url = f"http://{found.group(2)}"

    def text(self) -> str:
        if self.process.poll() is not None:
            raise AssertionError(f"server exited:\n{self.log_path.read_text()}")
        return self.log_path.read_text()

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return json.load(response)

    def status(self) -> dict[str, Any]:
        return self.get("/status")  # type: ignore[no-any-return]

    def applied(self, sha: str) -> bool:
        return bool(self.status()["lastAppliedRevision"] == sha)

    def served(self) -> dict[str, dict[str, Any]]:
        """``/config`` of every proxy of the served revision, by node id."""
        nodes = [p["id"] for p in self.status()["proxies"] if p["error"] is None]
        return {node: self.get(f"/config/{node}") for node in nodes}

    def metric(self, name: str) -> float:
        """The value of one sample of ``/metrics`` (0.0 when absent)."""
        with urllib.request.urlopen(self.url + "/metrics", timeout=10) as response:
            text = response.read().decode()
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.log.close()
