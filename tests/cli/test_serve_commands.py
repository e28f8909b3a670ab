"""`reconciler bootstrap`, `reconciler status` and `reconciler serve` argument handling."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from xds_harness import PlaneThread  # also puts tests/integration on the path

from ads_client import AdsClient  # isort: skip
from proxy_configs import outbound_proxy  # isort: skip
from polling import until  # isort: skip
from reconciler.cli.main import main
from reconciler.cli.status import render, render_fleet
from reconciler.journal import Journal, JournalEntry
from reconciler.resource_types import TypeUrl
from reconciler.serve.client import merge_statuses

ENVOY = Path(sys.executable).parent / "envoy"

STATUS = {
    "lastAttemptedRevision": "b" * 40,
    "lastAppliedRevision": "a" * 40,
    "lastError": {
        "code": "RC605",
        "message": "revision bbbbbbbb has errors; nothing was published",
        "diagnostics": [{"text": "web.yaml:9:13: error[RC206] networking.inbound[0].port: ..."}],
    },
    "source": {"url": "/srv/mesh", "branch": None, "lastSuccessTime": None, "stale": False},
    "ready": True,
    "proxies": [
        {
            "id": "default.web-1",
            "connected": True,
            "protocol": "delta",
            "versions": {
                "CDS": {
                    "sent": "1a2b3c4d5e6f7a8b",
                    "acked": "1a2b3c4d5e6f7a8b",
                    "nacked": "",
                    "ackedCommit": "c" * 40,
                },
                "RDS": {"sent": "r2", "acked": "r1", "nacked": "r2"},
            },
            "lastNack": {"type": "RDS", "version": "r2", "message": "x\nbad route"},
            "error": None,
        },
        {
            "id": "default.ghost",
            "connected": True,
            "protocol": "sotw",
            "versions": {},
            "lastNack": None,
            "error": "node id 'default.ghost' names no Dataplane; the proxy gets nothing",
        },
    ],
}


def test_status_table_shows_errors_nacks_and_unknown_proxies() -> None:
    out = render(STATUS)
    assert "applied aaaaaaaaaaaa  attempted bbbbbbbbbbbb" in out
    assert "[RC605]" in out and "web.yaml:9:13" in out
    lines = out.splitlines()
    web = next(line for line in lines if line.startswith("default.web-1"))
    assert "delta" in web and "1a2b3c4d5e6f " in web and "r1!" in web
    assert "NACK RDS: bad route" in web
    ghost = next(line for line in lines if line.startswith("default.ghost"))
    assert "names no Dataplane" in ghost


def test_status_of_several_replicas_is_merged() -> None:
    def proxy(node: str, connected: bool, cds: str) -> dict[str, object]:
        versions = {"CDS": {"sent": cds, "acked": cds, "nacked": ""}}
        return {"id": node, "connected": connected, "versions": versions, "error": None}

    a = {
        "lastAppliedRevision": "a" * 40,
        "following": True,
        "proxies": [proxy("default.web-1", True, "c1"), proxy("default.db-1", False, "")],
    }
    b = {
        "lastAppliedRevision": "a" * 40,
        "following": False,
        "control": {"mode": "paused", "revision": "a" * 40, "by": "Olga <o@x>"},
        "proxies": [proxy("default.web-1", False, ""), proxy("default.api-1", True, "c2")],
    }
    merged = merge_statuses(
        [("http://a", a, None), ("http://b", b, None), ("http://c", None, "cannot read")]
    )
    assert merged["lastAppliedRevision"] == "a" * 40 and merged["revisionsAgree"] is True
    assert [(p["id"], p["server"]) for p in merged["proxies"]] == [
        ("default.api-1", "http://b"),
        ("default.db-1", None),  # connected nowhere: listed once
        ("default.web-1", "http://a"),
    ]
    assert [s["error"] for s in merged["servers"]] == [None, None, "cannot read"]
    out = render_fleet(merged)
    assert "http://b  applied aaaaaaaaaaaa  attempted -  paused aaaaaaaaaaaa by Olga <o@x>" in out
    assert "http://c  unreachable: cannot read" in out
    web = next(line for line in out.splitlines() if line.startswith("default.web-1"))
    assert "http://a" in web and "c1" in web
    b["lastAppliedRevision"] = "b" * 40
    split = merge_statuses([("http://a", a, None), ("http://b", b, None)])
    assert split["lastAppliedRevision"] is None and split["revisionsAgree"] is False
    assert "the replicas serve different revisions" in render_fleet(split)


def test_a_refused_proxy_shows_why_and_a_superseded_nack_is_no_problem() -> None:
    refused = {
        "id": "default.web-2",
        "connected": False,
        "protocol": "delta",
        "versions": {},
        "lastNack": None,
        "error": None,
        "authError": "RC620 token signed by key 1a2b, the server knows key 3c4d\nhint...",
    }
    healed = {
        "id": "default.web-3",
        "connected": True,
        "protocol": "sotw",
        "versions": {"RDS": {"sent": "r3", "acked": "r3", "nacked": "r2"}},
        "lastNack": {"type": "RDS", "version": "r2", "message": "bad route"},
        "error": None,
    }
    out = render({**STATUS, "lastError": None, "proxies": [refused, healed]})
    line = next(x for x in out.splitlines() if x.startswith("default.web-2"))
    assert "refused: RC620 token signed by key 1a2b" in line
    line = next(x for x in out.splitlines() if x.startswith("default.web-3"))
    assert "NACK" not in line


def test_status_against_a_running_server(capsys: pytest.CaptureFixture[str]) -> None:
    plane = PlaneThread()
    clients: list[AdsClient] = []
    try:
        plane.publish(
            outbound_proxy(
                "default.web-1", ("127.0.0.1", 15001), {"b": 1}, {"b": [("127.0.0.2", 80)]}
            )
        )
        target = f"127.0.0.1:{plane.xds_port}"

        async def drive() -> None:
            web = AdsClient(target, "default.web-1", delta=True)
            ghost = AdsClient(target, "default.ghost", delta=True)
            clients.extend((web, ghost))
            await web.delta_request(TypeUrl.CLUSTER)
            await web.ack(await web.recv())
            await web.delta_request(TypeUrl.ROUTE, subscribe=["outbound:127.0.0.1:15001"])
            rds = await web.recv()
            await web.delta_request(TypeUrl.ROUTE, nonce=rds.nonce, error="rejected\nbad route")
            await ghost.delta_request(TypeUrl.CLUSTER)

            def seen() -> bool:
                proxies = {p.node_id: p for p in plane.plane.registry.connected()}
                return "default.ghost" in proxies and bool(proxies["default.web-1"].last_nack)

            await until(seen, 2, "the ghost stream and the NACK")

        plane.call(drive())
        server = f"http://127.0.0.1:{plane.plane.http_port}"
        # a NACKing proxy and an unknown node: exit 1, unless the script only prints
        assert main(["status", "--server", server]) == 1
        out = capsys.readouterr().out
        assert main(["status", "--server", server, "--exit-zero"]) == 0
        assert capsys.readouterr().out == out
        web = next(line for line in out.splitlines() if line.startswith("default.web-1"))
        assert "yes" in web and "delta" in web and "NACK RDS: bad route" in web
        assert "!" in web  # the RDS version sent was NACKed
        ghost = next(line for line in out.splitlines() if line.startswith("default.ghost"))
        assert "names no Dataplane" in ghost
        assert main(["status", "--server", server, "--json", "--exit-zero"]) == 0
        payload = json.loads(capsys.readouterr().out)
        assert {p["id"] for p in payload["proxies"]} == {"default.web-1", "default.ghost"}
    finally:

        async def close() -> None:
            for client in clients:
                await client.close()

        plane.call(close())
        plane.stop()


def test_status_of_an_unreachable_server(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--server", "http://127.0.0.1:1"]) == 2
    assert "is `reconciler serve` running?" in capsys.readouterr().err


def test_bootstrap_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bootstrap", "--proxy", "web-1"]) == 2
    assert "is not MESH.NAME" in capsys.readouterr().err
    assert main(["bootstrap", "--proxy", "default.web-1", "--xds-address", "nowhere"]) == 2
    assert "is not HOST:PORT" in capsys.readouterr().err
    twice = ["--xds-address", "127.0.0.1:5678"] * 2
    assert main(["bootstrap", "--proxy", "default.web-1", *twice]) == 2
    assert "given twice" in capsys.readouterr().err


def test_serve_refuses_a_missing_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.e2e
@pytest.mark.parametrize(
    "flags",
    [[], ["--sotw"], ["--xds-address", "127.0.0.1:5678", "--xds-address", "localhost:5679"]],
    ids=["delta", "sotw", "replicas"],
)
def test_bootstrap_is_accepted_by_envoy(
    tmp_path: Path, flags: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bootstrap", "--proxy", "default.web-1", "--admin-port", "0", *flags]) == 0
    text = capsys.readouterr().out
    assert ("api_type: GRPC" if "--sotw" in flags else "api_type: DELTA_GRPC") in text
    assert "id: default.web-1\n" in text
    path = tmp_path / "bootstrap.yaml"
    path.write_text(text)
    result = subprocess.run(
        [str(ENVOY), "--mode", "validate", "-c", str(path), "--disable-hot-restart", "-l", "error"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_local_pause_pins_the_last_applied_revision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    assert main(["pause", "--state-dir", str(state)]) == 2  # nothing applied yet
    assert "nothing to pause at" in capsys.readouterr().err
    journal = Journal(state)
    journal.record(JournalEntry(sha="a" * 40, content_hash="h1", time=1.0))
    journal.record(JournalEntry(sha="b" * 40, content_hash="h2", time=2.0))
    assert main(["pause", "--state-dir", str(state), "--reason", "freeze"]) == 0
    assert "paused at bbbbbbbbbbbb" in capsys.readouterr().out
    pin = journal.pin()
    assert pin is not None and (pin.sha, pin.reason) == ("b" * 40, "paused: freeze")
    assert main(["pause", "--state-dir", str(state), "--at", "a" * 40]) == 2
    assert "--at needs --repo" in capsys.readouterr().err
    assert main(["resume", "--state-dir", str(state)]) == 0
    assert journal.pin() is None
