"""`serve` refuses a revision with a regular expression Envoy rejects (Kuma accepts it)."""

from __future__ import annotations

import asyncio
import json
import shutil
import urllib.request
from pathlib import Path

from harness import run

from reconciler.cli.main import main
from reconciler.cli.serve import pipeline_compile
from reconciler.serve.loop import Reconciler
from reconciler.serve.metrics import Metrics
from reconciler.serve.server import ControlPlane
from reconciler.snapshot import SnapshotCache
from reconciler.source.directory import DirectorySource

SAMPLE = Path(__file__).resolve().parents[2] / "sample-repo"
CATCH_ALL = "            - path:\n                type: PathPrefix\n                value: /\n"
BAD = "            - path:\n                type: RegularExpression\n                value: /api/(unclosed\n"


def _break_route(repo: Path) -> int:
    """Replace the canary's first path match by a regex RE2 cannot parse; its line."""
    routes = repo / "policies" / "routes.yaml"
    text = routes.read_text()
    assert CATCH_ALL in text
    routes.write_text(text.replace(CATCH_ALL, BAD, 1))
    return text[: text.index(CATCH_ALL)].count("\n") + 3


def test_validate_warns_with_file_and_line(tmp_path: Path, capsys: object) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE, repo)
    line = _break_route(repo)
    assert main(["validate", str(repo), "--no-cache"]) == 0  # a warning: Kuma accepts it
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert f"policies/routes.yaml:{line}:" in out
    assert "warning[RC315]" in out and "missing ): /api/(unclosed" in out
    assert main(["validate", str(repo), "--no-cache", "--fail-on", "warning"]) == 1


def test_serve_refuses_the_revision_and_keeps_the_last_good_one(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE, repo)

    async def status(port: int) -> dict[str, object]:
        def get() -> dict[str, object]:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=5) as r:
                payload: dict[str, object] = json.load(r)
                return payload

        return await asyncio.to_thread(get)

    async def until(check: object) -> None:
        for _ in range(500):
            if check():  # type: ignore[operator]
                return
            await asyncio.sleep(0.02)
        raise AssertionError("condition not met in time")

    async def body() -> None:
        cache, metrics = SnapshotCache(), Metrics()
        loop = Reconciler(
            DirectorySource([repo]), pipeline_compile(), cache, metrics, interval=None
        )
        plane = ControlPlane(cache=cache, metrics=metrics, reconciler=loop)
        await plane.start("127.0.0.1:0", "127.0.0.1:0")
        try:
            await until(lambda: cache.ready)
            good = loop.state.last_applied
            served = cache.get("default.frontend-1")
            line = _break_route(repo)
            loop.trigger()
            await until(lambda: loop.state.last_error is not None)
            body = await status(plane.http_port)
            assert body["lastAppliedRevision"] == good
            assert body["lastAttemptedRevision"] != good
            error = body["lastError"]
            assert isinstance(error, dict)
            [diag] = error["diagnostics"]
            assert diag["code"] == "RC315" and diag["severity"] == "warning"
            assert diag["file"].endswith("policies/routes.yaml") and diag["line"] == line
            assert "missing ): /api/(unclosed" in diag["text"]
            assert cache.get("default.frontend-1") is served  # nothing was published
        finally:
            await plane.stop(0)

    run(body)
