"""``reconciler serve REPO`` as a process, driven by ``history``, ``rollback``, ``resume``,
``status`` and SIGHUP; then a restart with the remote gone."""

from __future__ import annotations

import json
import shutil
import signal
from pathlib import Path

import pytest
from gitops_repo import Repo, timeout_policy
from polling import wait_for
from serve_process import Server

from reconciler.cli.main import main

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def test_serve_history_rollback_resume_restart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = Repo(tmp_path / "origin")
    first = repo.initial()
    state = tmp_path / "state"
    server = Server(repo.path, state, tmp_path / "serve.log")
    try:
        wait_for(lambda: server.status()["lastAppliedRevision"] == first, 60, "first commit")
        second = repo.commit("faster", {"mesh/timeout.yaml": timeout_policy("2s")})
        server.process.send_signal(signal.SIGHUP)  # poll now
        wait_for(lambda: server.status()["lastAppliedRevision"] == second, 60, "second commit")

        bad = repo.commit("typo", {"mesh/timeout.yaml": timeout_policy("1s", "requestTimout")})
        server.process.send_signal(signal.SIGHUP)
        wait_for(lambda: server.status()["lastError"] is not None, 60, "bad commit rejected")
        assert server.status()["lastAttemptedRevision"] == bad
        capsys.readouterr()
        assert main(["status", "--server", server.url]) == 1
        out = capsys.readouterr().out
        assert "timeout.yaml:" in out and "requestTimout" in out

        assert main(["history", "--state-dir", str(state), "--json"]) == 0
        history = json.loads(capsys.readouterr().out)
        assert [e["sha"] for e in history["entries"]] == [second, first]

        assert main(["rollback", "--to", first[:10], "--state-dir", str(state)]) == 0
        assert "signalled" in capsys.readouterr().out
        wait_for(lambda: server.status()["lastAppliedRevision"] == first, 60, "rollback")
        assert server.status()["pinned"]["sha"] == first

        assert main(["rollback", "--to", bad, "--state-dir", str(state)]) == 2  # never applied

        fixed = repo.commit("fix", {"mesh/timeout.yaml": timeout_policy("3s")})
        assert main(["resume", "--state-dir", str(state)]) == 0
        wait_for(
            lambda: server.status()["lastAppliedRevision"] == fixed, 60, "resume follows the branch"
        )
        assert server.status()["following"] is True
        served = versions(server)
    finally:
        server.stop()

    shutil.rmtree(repo.path)  # the remote is gone: a restart serves the journal's revision
    restarted = Server(repo.path, state, tmp_path / "restart.log")
    try:
        wait_for(lambda: server_status_ok(restarted, fixed), 60, "restored revision")
        status = restarted.status()
        assert status["restoredRevision"] == fixed
        assert status["source"]["stale"] is True and status["source"]["reason"] == "unreachable"
        assert status["ready"] is True
        assert versions(restarted) == served  # a restart re-pushes nothing
    finally:
        restarted.stop()


def versions(server: Server) -> dict[str, dict[str, str]]:
    return {node: config["versions"] for node, config in server.served().items()}


def server_status_ok(server: Server, sha: str) -> bool:
    status = server.status()
    return bool(status["lastAppliedRevision"] == sha and status["source"]["stale"])
