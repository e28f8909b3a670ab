"""`render` and `/config` print the same resources with the same (proto) field names, and
`render` says who issues an mTLS proxy's certificates."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path
from typing import Any

from harness import run

from reconciler.cli.render import RenderOptions, render
from reconciler.cli.serve import pipeline_compile
from reconciler.resource_types import TypeUrl
from reconciler.serve.loop import Reconciler
from reconciler.serve.metrics import Metrics
from reconciler.serve.server import ControlPlane
from reconciler.snapshot import SnapshotCache
from reconciler.source.directory import DirectorySource

SAMPLE = Path(__file__).resolve().parents[2] / "sample-repo"
PROXY = "default.frontend-1"


def _by_name(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: str(item.get("name") or item.get("cluster_name")))


def test_render_and_config_use_the_same_field_names() -> None:
    rendered = render(RenderOptions((str(SAMPLE),), PROXY, "json"))
    [document] = json.loads(rendered.stdout)

    async def served() -> dict[str, Any]:
        cache, metrics = SnapshotCache(), Metrics()
        loop = Reconciler(
            DirectorySource([SAMPLE]), pipeline_compile(), cache, metrics, interval=None
        )
        plane = ControlPlane(cache=cache, metrics=metrics, reconciler=loop)
        await plane.start("127.0.0.1:0", "127.0.0.1:0")
        try:
            for _ in range(500):
                if cache.ready:
                    break
                await asyncio.sleep(0.02)
            url = f"http://127.0.0.1:{plane.http_port}/config/{PROXY}"

            def get() -> dict[str, Any]:
                with urllib.request.urlopen(url, timeout=5) as response:
                    payload: dict[str, Any] = json.load(response)
                    return payload

            return await asyncio.to_thread(get)
        finally:
            await plane.stop(0)

    config = run(served)
    groups = [t.group for t in (TypeUrl.LISTENER, TypeUrl.ROUTE, TypeUrl.CLUSTER, TypeUrl.ENDPOINT)]
    for group in groups:
        assert _by_name(config["resources"][group]) == _by_name(document[group]), group
    assert "connect_timeout" in json.dumps(config["resources"]["clusters"])
    assert "connectTimeout" not in json.dumps(config)


def test_render_notes_that_serve_issues_the_certificates_of_an_mtls_mesh() -> None:
    rendered = render(RenderOptions((str(SAMPLE),), None, "json"))
    documents = json.loads(rendered.stdout)
    assert documents
    for document in documents:
        assert document["secrets"] == []
        assert any(
            "certificates" in note and "are issued by `reconciler serve`" in note
            for note in document["notes"]
        ), document["proxy"]
