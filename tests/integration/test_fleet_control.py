"""Fleet-wide rollback, pause and resume: three ``reconciler serve`` processes follow one
repository; ``reconciler rollback|pause|resume --repo`` push a control commit and every
replica obeys it, also after a restart and with a fresh state directory, and its history
names who asked and why."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from git_repo import git
from gitops_repo import Repo, compiler, timeout_policy
from harness import run
from polling import wait_for
from serve_process import Server

from reconciler.cli.main import main
from reconciler.journal import Journal
from reconciler.serve.loop import Reconciler
from reconciler.serve.metrics import Metrics
from reconciler.snapshot import SnapshotCache
from reconciler.source.control import default_control_ref
from reconciler.source.control_git import ControlTarget, write_control
from reconciler.source.git import GitSource

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

OLGA = "Olga Operator <olga@example.test>"


class Fleet:
    def __init__(self, tmp_path: Path, repo: Repo) -> None:
        self.tmp_path = tmp_path
        self.repo = repo
        self.servers: list[Server] = []
        self.started = 0
        for i in range(3):
            self.start(tmp_path / f"state-{i}")

    def start(self, state: Path) -> Server:
        self.started += 1
        server = Server(self.repo.path, state, self.tmp_path / f"serve-{self.started}.log")
        self.servers.append(server)
        return server

    def restart(self, index: int, state: Path) -> Server:
        self.servers.pop(index).stop()
        return self.start(state)

    def poll(self) -> None:
        """Every replica polls now (SIGHUP) and the poll is over (its fetch time moved)."""
        before = [s.status()["source"]["lastSuccessTime"] for s in self.servers]
        for server in self.servers:
            server.process.send_signal(signal.SIGHUP)
        for server, seen in zip(self.servers, before, strict=True):
            wait_for(
                lambda s=server, t=seen: s.status()["source"]["lastSuccessTime"] != t,
                60,
                "a poll of every replica",
            )

    def applied(self, sha: str) -> None:
        for i, server in enumerate(self.servers):
            wait_for(lambda s=server: s.applied(sha), 60, f"replica {i} applies {sha[:8]}")

    def statuses(self) -> list[dict[str, Any]]:
        return [s.status() for s in self.servers]

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "origin")


@pytest.fixture
def fleet(tmp_path: Path, repo: Repo) -> Iterator[Fleet]:
    repo.initial()
    made = Fleet(tmp_path, repo)
    try:
        yield made
    finally:
        made.stop()


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    assert main(list(argv)) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def test_rollback_pause_resume_on_every_replica(
    fleet: Fleet, repo: Repo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c1 = repo.git("rev-parse", "HEAD")
    fleet.applied(c1)
    c2 = repo.commit("faster", {"mesh/timeout.yaml": timeout_policy("2s")})
    fleet.poll()
    fleet.applied(c2)
    operator = ["--repo", str(repo.path), "--author", OLGA]

    # rollback: every replica serves c1 and stops following
    out = run_cli(capsys, "rollback", "--to", c1[:10], "--reason", "2s is too short", *operator)
    assert f"pinned to {c1[:12]}" in out
    fleet.poll()
    fleet.applied(c1)
    for status in fleet.statuses():
        assert status["following"] is False
        control = status["control"]
        assert (control["mode"], control["revision"], control["by"]) == ("pinned", c1, OLGA)
        assert control["reason"] == "2s is too short"
        trigger = status["journal"][0]["trigger"]
        assert trigger.startswith(f"rollback by {OLGA}") and "2s is too short" in trigger

    # a new commit is not applied while pinned, not even by a replica started afterwards
    # with an empty state directory
    c3 = repo.commit("3s", {"mesh/timeout.yaml": timeout_policy("3s")})
    fleet.poll()
    assert [s["lastAppliedRevision"] for s in fleet.statuses()] == [c1, c1, c1]
    fresh = fleet.restart(0, tmp_path / "state-fresh")
    wait_for(lambda: fresh.applied(c1), 60, "the fresh replica serves the pinned commit")
    fleet.poll()
    history = json.loads(
        run_cli(capsys, "history", "--state-dir", str(tmp_path / "state-fresh"), "--json")
    )
    assert [e["sha"] for e in history["entries"]] == [c1]  # never served c3
    assert history["entries"][0]["trigger"].startswith(f"rollback by {OLGA}")

    # resume: every replica follows the branch again
    run_cli(capsys, "resume", "--reason", "fixed in c3", *operator)
    fleet.poll()
    fleet.applied(c3)
    for status in fleet.statuses():
        assert status["following"] is True and status["control"]["mode"] == "following"
        assert status["journal"][0]["trigger"].startswith(f"resume by {OLGA}")

    # pause: held at the head of now (c3); a later commit waits, across a restart
    out = run_cli(capsys, "pause", "--reason", "change freeze", *operator)
    assert f"paused at {c3[:12]}" in out
    c4 = repo.commit("4s", {"mesh/timeout.yaml": timeout_policy("4s")})
    fleet.poll()
    fleet.restart(1, tmp_path / "state-1")  # the same state directory as before
    wait_for(lambda: fleet.servers[-1].applied(c3), 60, "the restarted replica serves c3")
    fleet.poll()
    for status in fleet.statuses():
        assert status["lastAppliedRevision"] == c3
        assert (status["control"]["mode"], status["control"]["revision"]) == ("paused", c3)
        assert status["following"] is False

    # `reconciler status` over every replica says where each one stands
    servers = [arg for s in fleet.servers for arg in ("--server", s.url)]
    table = run_cli(capsys, "status", *servers)
    assert table.count(f"paused {c3[:12]}") == 3, table

    run_cli(capsys, "resume", *operator)
    fleet.poll()
    fleet.applied(c4)

    # the control ref keeps the record: who asked what, in order
    log = git(repo.path, "log", "--format=%an <%ae>|%s", "refs/reconciler/control/main")
    assert log.splitlines() == [
        f"{OLGA}|reconciler following",
        f"{OLGA}|reconciler paused {c3}: change freeze",
        f"{OLGA}|reconciler following: fixed in c3",
        f"{OLGA}|reconciler pinned {c1}: 2s is too short",
    ]


def test_fleet_commands_refuse_what_they_cannot_do(
    repo: Repo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.initial()
    operator = ["--repo", str(repo.path), "--author", OLGA]
    assert main(["rollback", "--to", "0" * 40, *operator]) == 2
    assert "is not in" in capsys.readouterr().err
    assert main(["rollback", "--to", "deadbeef", *operator]) == 2
    assert "give the full commit id" in capsys.readouterr().err
    state = ["--state-dir", str(tmp_path / "state")]
    assert main(["pause", *operator, *state]) == 2
    assert "exclusive" in capsys.readouterr().err
    assert main(["pause", "--author", "nobody", "--repo", str(repo.path)]) == 2
    assert "Name <email>" in capsys.readouterr().err
    assert main(["pause", "--control-ref", "main", *operator]) == 2
    assert "not a full ref name" in capsys.readouterr().err


def test_local_pin_wins_and_a_bad_control_document_keeps_the_last_good_one(
    repo: Repo, tmp_path: Path
) -> None:
    """The loop itself, in-process: precedence and the failure modes of the control ref."""
    c1 = repo.initial()
    c2 = repo.commit("faster", {"mesh/timeout.yaml": timeout_policy("2s")})
    ref = default_control_ref("main")
    target = ControlTarget(repo=str(repo.path), branch="main", ref=ref)
    state = tmp_path / "state"
    source = GitSource(str(repo.path), state_dir=state, subpath="mesh", control_ref=ref)
    loop = Reconciler(
        source, compiler(), SnapshotCache(), Metrics(), journal=Journal(state), control=source
    )

    async def body() -> None:
        await loop.reconcile()
        assert loop.state.last_applied == c2
        write_control(target, "pinned", revision=c1, reason="r", author=OLGA)
        await loop.reconcile()
        assert loop.state.last_applied == c1 and loop.status_json()["following"] is False

        # a local pin (one host's override) wins over the fleet control, until resumed
        Journal(state).set_pin(c2, "override")
        await loop.reconcile()
        assert loop.state.last_applied == c2
        Journal(state).clear_pin()
        await loop.reconcile()
        assert loop.state.last_applied == c1

        # a control commit that is not a control document: the last good control applies
        tip = git(repo.path, "rev-parse", ref)
        blob = git(repo.path, "hash-object", "-w", "--stdin", input_text="{not json")
        tree = git(repo.path, "mktree", input_text=f"100644 blob {blob}\tcontrol.json\n")
        bad = git(repo.path, "commit-tree", tree, "-p", tip, "-m", "oops")
        git(repo.path, "update-ref", ref, bad)
        c3 = repo.commit("3s", {"mesh/timeout.yaml": timeout_policy("3s")})
        await loop.reconcile()
        status = loop.status_json()
        assert loop.state.last_applied == c1
        assert status["control"]["mode"] == "pinned" and status["control"]["revision"] == c1
        assert "is not JSON" in status["control"]["error"]
        # a restart while it is so: the last valid control was kept in the state dir
        source2 = GitSource(str(repo.path), state_dir=state, subpath="mesh", control_ref=ref)
        restarted = Reconciler(
            source2, compiler(), SnapshotCache(), Metrics(), journal=Journal(state), control=source2
        )
        assert restarted.holds.fleet is not None and restarted.holds.fleet.revision == c1
        await restarted.restore()
        await restarted.reconcile()
        assert restarted.state.last_applied == c1
        assert "is not JSON" in restarted.status_json()["control"]["error"]

        write_control(target, "following", reason="fixed", author=OLGA)
        await loop.reconcile()
        status = loop.status_json()
        assert loop.state.last_applied == c3 and status["control"]["error"] is None
        assert status["journal"][0]["trigger"].startswith(f"resume by {OLGA}")
        assert [e.trigger.split(" ")[0] for e in Journal(state).entries()] == [
            "branch",  # c2
            "rollback",  # c1
            "local",  # c2, the local pin
            "rollback",  # c1 again
            "resume",  # c3
        ]

    run(body)
