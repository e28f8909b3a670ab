"""``reconciler serve --notify ...`` as a process: both formats reach a real receiver on
127.0.0.1, and a restart on the same commit sends no second ``revision.applied``."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import signal
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from gitops_repo import Repo, timeout_policy
from harness import run
from webhook_receiver import Receiver, receiving

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]
RECONCILER = Path(sys.executable).parent / "reconciler"
SECRET = b"a shared secret"


async def start_server(repo: Repo, state: Path, rx: Receiver, log: Path) -> tuple[Any, str]:
    slack_url = state.parent / "slack-url"
    slack_url.write_text(rx.url("/slack") + "\n")
    secret = state.parent / "notify-secret"
    secret.write_bytes(SECRET + b"\n")
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            str(RECONCILER),
            "serve",
            repo.path.as_uri(),
            "--path=mesh",
            f"--state-dir={state}",
            "--interval=1h",
            "--xds-address=127.0.0.1:0",
            "--http-address=127.0.0.1:0",
            f"--notify=generic={rx.url('/generic')}",
            f"--notify=slack=@{slack_url}",
            f"--notify-secret-file={secret}",
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while not (found := re.search(r"status on (http://[\d.:]+)/status", log.read_text())):
        assert process.returncode is None, log.read_text()
        assert time.monotonic() < deadline, "server did not start"
        await asyncio.sleep(0.1)
    return process, found.group(1)


async def fetch(url: str) -> str:
    def get() -> str:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode())

    return await asyncio.to_thread(get)


async def stop(process: Any) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 20)


def test_serve_sends_both_formats_and_not_twice_after_a_restart(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "origin")
    first = repo.initial()
    state = tmp_path / "state"

    async def body() -> None:
        async with receiving() as rx:
            process, _url = await start_server(repo, state, rx, tmp_path / "serve-1.log")
            try:
                got = {r.path: r for r in [await rx.next(60), await rx.next(60)]}
                generic, slack = got["/generic"], got["/slack"]
                signature = "sha256=" + hmac.new(SECRET, generic.body, hashlib.sha256).hexdigest()
                assert generic.headers["X-Reconciler-Signature-256"] == signature
                assert generic.json()["event"] == "revision.applied"
                assert generic.json()["revision"]["sha"] == first
                assert slack.json()["text"].startswith(f"[revision.applied] revision {first[:8]}")
                repo.commit("typo", {"mesh/timeout.yaml": timeout_policy("1s", "requestTimout")})
                process.send_signal(signal.SIGHUP)
                refused = {r.path: r for r in [await rx.next(60), await rx.next(60)]}
                assert refused["/generic"].json()["event"] == "revision.refused"
                assert "requestTimout" in json.dumps(refused["/slack"].json())
            finally:
                await stop(process)
            assert process.returncode == 0, (tmp_path / "serve-1.log").read_text()

            process, url = await start_server(repo, state, rx, tmp_path / "serve-2.log")
            try:
                deadline = time.monotonic() + 60
                while json.loads(await fetch(url + "/status"))["lastAttemptedRevision"] is None:
                    assert time.monotonic() < deadline, "restarted server did not reconcile"
                    await asyncio.sleep(0.1)
                metrics = await fetch(url + "/metrics")
                applied = re.search(
                    r'^reconciler_notification_events_total\{event="revision.applied"\} (\S+)$',
                    metrics,
                    re.M,
                )
                assert applied is None or float(applied.group(1)) == 0.0, metrics
            finally:
                await stop(process)

    run(body, timeout=150)
