"""`reconciler serve sample-repo` (a scratch copy) with real Envoys: compiled config, mTLS, a
canary split, and a route edit that traffic follows after SIGHUP."""

from __future__ import annotations

import json
import random
import re
import shutil
import signal
import subprocess
import sys
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from polling import wait_for
from xds_harness import App, Envoy, free_port, get

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

ROOT = Path(__file__).resolve().parents[2]
RECONCILER = Path(sys.executable).parent / "reconciler"
NODES = ("default.frontend-1", "default.backend-v1-1", "default.backend-v2-1")


def scratch_repo(target: Path) -> tuple[str, dict[int, int]]:
    """Copy sample-repo onto a private 127.0.N.0/24 and free application ports."""
    shutil.copytree(ROOT / "sample-repo", target)
    subnet = f"127.0.{random.randint(100, 250)}."
    ports: dict[int, int] = {}
    for path in target.rglob("*.yaml"):
        text = path.read_text().replace("127.0.1.", subnet)

        def port(match: re.Match[str]) -> str:
            old = int(match.group(1))
            ports.setdefault(old, free_port())
            return f"servicePort: {ports[old]}"

        path.write_text(re.sub(r"servicePort: (\d+)", port, text))
    return subnet, ports


def issue_token(node: str, state: Path) -> str:
    result = subprocess.run(
        [str(RECONCILER), "token", "issue", "--proxy", node, "--state-dir", str(state)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


class Server:
    def __init__(self, repo: Path, state: Path, log: Path) -> None:
        self.xds_port, self.http_port = free_port(), free_port()
        self.log = log.open("wb")
        self.process = subprocess.Popen(
            [
                str(RECONCILER),
                "serve",
                str(repo),
                "--state-dir",
                str(state),
                "--xds-address",
                f"127.0.0.1:{self.xds_port}",
                "--http-address",
                f"127.0.0.1:{self.http_port}",
                "--interval",
                "300s",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def status(self) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.http_port}/status"
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.load(response)  # type: ignore[no-any-return]

    def all_acked(self, nodes: tuple[str, ...]) -> bool:
        proxies = {p["id"]: p for p in self.status()["proxies"]}
        for node in nodes:
            versions = proxies[node]["versions"]
            if not proxies[node]["connected"] or not versions:
                return False
            if any(v["acked"] != v["sent"] or not v["acked"] for v in versions.values()):
                return False
        return True

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                assert self.process.wait(10) == 0
            finally:
                if self.process.poll() is None:
                    self.process.kill()
                    self.process.wait(5)
        self.log.close()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[list[Any]]:
    items: list[Any] = []
    try:
        yield items
    finally:
        for item in reversed(items):
            item.stop()


def test_serve_sample_repo_with_real_envoys(tmp_path: Path, stack: list[Any]) -> None:
    repo = tmp_path / "repo"
    subnet, ports = scratch_repo(repo)
    stack.append(App("backend v1", "127.0.0.1", ports[18081]))
    stack.append(App("backend v2", "127.0.0.1", ports[18082]))
    # proxies of mTLS meshes receive private keys: each Envoy proves its node id with a token
    tokens = {node: issue_token(node, tmp_path / "state") for node in NODES}
    server = Server(repo, tmp_path / "state", tmp_path / "serve.log")
    stack.append(server)
    wait_for(lambda: server.status()["lastAppliedRevision"], 30, "the first revision applied")
    status = server.status()
    assert status["lastError"] is None
    assert set(NODES) <= {p["id"] for p in status["proxies"]}
    for node in NODES:
        stack.append(
            Envoy(
                tmp_path / node,
                node,
                server.xds_port,
                sotw=node.endswith("v2-1"),
                token=tokens[node],
            )
        )
    wait_for(lambda: server.all_acked(NODES), 30, "every proxy ACKed (CDS, EDS, LDS, RDS, SDS)")

    backend = (f"{subnet}1", 10001)  # frontend-1's outbound listener for `backend`
    answers = Counter(get(backend) for _ in range(60))
    assert answers["backend v1"] > 30, answers  # canary split 90/10 (with faults on v2)
    assert set(answers) <= {"backend v1", "backend v2"} | {
        a for a in answers if a.startswith("HTTP 503")
    }

    # move all traffic to v2 in the scratch copy; SIGHUP re-reads the directory
    routes = repo / "policies" / "routes.yaml"
    text = routes.read_text()
    text = re.sub(r"weight: 90", "weight: 0", text)
    text = re.sub(r"weight: 10\b", "weight: 100", text)
    routes.write_text(text)
    applied = status["lastAppliedRevision"]
    server.process.send_signal(signal.SIGHUP)
    wait_for(lambda: server.status()["lastAppliedRevision"] != applied, 20, "the edit applied")
    wait_for(lambda: server.all_acked(NODES), 20, "the new routes ACKed")
    after = Counter(get(backend) for _ in range(40))
    assert after["backend v2"] > 20 and "backend v1" not in after, after
