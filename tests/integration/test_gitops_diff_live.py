"""``reconciler diff PATH --server URL``: a local tree against what connected proxies run."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from ads_client import AdsClient
from gitops_repo import BACKEND, FRONTEND, MESH, Repo, serving, timeout_policy
from harness import run

from reconciler.cli.diff import DiffOptions, diff
from reconciler.resource_types import TypeUrl

NODE = "default.frontend-1"


def tree(root: Path, request_timeout: str, field: str = "requestTimeout") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in {
        "mesh.yaml": MESH,
        "frontend.yaml": FRONTEND,
        "backend.yaml": BACKEND,
        "timeout.yaml": timeout_policy(request_timeout, field),
    }.items():
        (root / name).write_text(text)
    return root


def test_diff_against_connected_proxies(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "origin")
    repo.initial()  # requestTimeout 5s

    async def body() -> None:
        async with serving(repo.path, tmp_path / "state") as (plane, loop):
            await loop.reconcile()
            client = AdsClient(f"127.0.0.1:{plane.xds_port}", NODE)
            await client.request(TypeUrl.LISTENER)
            await client.ack(await client.recv())
            server = f"http://127.0.0.1:{plane.http_port}"

            def live(path: Path, fmt: str = "json") -> tuple[str, int]:
                return diff(DiffOptions(old=str(path), server=server, format=fmt, cache_dir=None))

            same, code = await asyncio.to_thread(live, tree(tmp_path / "same", "5s"))
            assert code == 0, same

            changed, code = await asyncio.to_thread(live, tree(tmp_path / "faster", "2s"))
            assert code == 1
            report = json.loads(changed)
            assert [p["node_id"] for p in report["proxies"]] == [NODE]  # only connected proxies
            assert any("live: 1 connected proxies" in n for n in report["notes"])
            text, code = await asyncio.to_thread(live, tmp_path / "faster", "text")
            assert code == 1 and NODE in text

            bad, code = await asyncio.to_thread(live, tree(tmp_path / "bad", "2s", "requestTimout"))
            assert code == 2 and "requestTimout" in bad
            await client.close()

    run(body, timeout=60)
