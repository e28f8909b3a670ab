"""The web console's routes on an in-process control plane with the real compile: what a page
shows, every value escaped (a NACK message and a node id holding markup), the safety
headers, only GET, and clear 404 pages."""

from __future__ import annotations

import asyncio
import re
import urllib.error
import urllib.request
from pathlib import Path

from ads_client import AdsClient
from harness import run

from reconciler.cli.serve import pipeline_compile
from reconciler.resource_types import TypeUrl
from reconciler.serve.loop import Reconciler
from reconciler.serve.server import ControlPlane
from reconciler.source.directory import DirectorySource

XSS = "<script>alert(1)</script>"
MESH = "type: Mesh\nname: default\n"
WEB = """\
type: Dataplane
mesh: default
name: web-1
networking:
  address: 127.0.1.2
  inbound:
    - port: 8080
      servicePort: 18080
      tags: {kuma.io/service: web, kuma.io/protocol: http}
"""
TIMEOUT = """\
type: MeshTimeout
name: inbound-timeout
mesh: default
spec:
  targetRef: {kind: Mesh}
  from:
    - targetRef: {kind: Mesh}
      default: {http: {requestTimeout: %s}}
"""


async def get(port: int, path: str, method: str = "GET") -> tuple[int, str, dict[str, str]]:
    def fetch() -> tuple[int, str, dict[str, str]]:
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                return r.status, r.read().decode(), dict(r.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(), dict(exc.headers)

    return await asyncio.to_thread(fetch)


def text(html: str) -> str:
    """The visible text, roughly: tags removed, entities kept (so escaping shows)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_console_pages_show_revisions_proxies_and_policies(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "mesh.yaml").write_text(MESH)
    (repo / "web.yaml").write_text(WEB)
    (repo / "timeout.yaml").write_text(TIMEOUT % "3s")

    async def scenario() -> None:
        plane = ControlPlane()
        loop = Reconciler(
            DirectorySource([repo]), pipeline_compile(), plane.cache, plane.metrics, interval=None
        )
        await plane.start("127.0.0.1:0", "127.0.0.1:0")
        plane.reconciler = loop  # the pages read it; the test drives the loop itself
        client = AdsClient(f"127.0.0.1:{plane.xds_port}", "default.web-1")
        stranger = AdsClient(f"127.0.0.1:{plane.xds_port}", XSS)
        try:
            first = await loop.reconcile()
            assert first is not None and first.applied
            (repo / "timeout.yaml").write_text(TIMEOUT % "5s")
            second = await loop.reconcile()
            assert second is not None and second.applied
            (repo / "web.yaml").write_text(
                WEB.replace("kuma.io/service: web", f"kuma.io/service: '{XSS}'")
            )
            refused = await loop.reconcile()
            assert refused is not None and not refused.applied

            await client.request(TypeUrl.LISTENER)
            response = await client.recv()
            await client.request(
                TypeUrl.LISTENER, version="", nonce=response.nonce, error=f"bad {XSS} listener"
            )
            await stranger.request(TypeUrl.CLUSTER)
            assert await stranger.nothing()
            port = plane.http_port

            status, html, headers = await get(port, "/console/revisions")
            assert status == 200 and headers["Content-Type"].startswith("text/html")
            assert "script-src" not in headers["Content-Security-Policy"]  # default-src 'none'
            assert headers["X-Content-Type-Options"] == "nosniff"
            assert "<script" not in html
            page = text(html)
            assert f"last applied revision {second.revision[:12]}" in page
            assert f"last attempted revision {refused.revision[:12]}" in page
            assert "web.yaml:9:" in page and "RC308" in page
            assert "Dataplane default/web-1" in page

            status, html, _ = await get(port, f"/console/revisions/{second.revision}")
            page = text(html)
            assert status == 200
            assert "configured MeshTimeout default/inbound-timeout" in page
            assert "timeout.yaml:1 spec.from[0].default.http.requestTimeout" in page
            assert "&quot;3s&quot; -&gt; &quot;5s&quot;" in page
            assert "proxies: 0 created, 1 configured" in page, page
            assert 'href="/console/proxies/default.web-1"' in html

            status, html, _ = await get(port, f"/console/revisions/{refused.revision}")
            assert status == 200 and "RC308" in html and "<script" not in html

            status, html, _ = await get(port, "/console/proxies")
            assert status == 200 and "<script" not in html
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the stranger's node id
            assert "NACK LDS" in text(html) and "bad &lt;script&gt;" in html

            status, html, _ = await get(port, "/console/proxies/default.web-1")
            page = text(html)
            assert status == 200
            assert re.search(r"inbound-timeout \(\S*timeout.yaml:1\)", page)
            assert "requestTimeout" in page and "&quot;5s&quot;" in page
            assert 'href="/config/default.web-1"' in html

            status, html, _ = await get(
                port, "/console/policies/MeshTimeout/default/inbound-timeout"
            )
            assert status == 200 and "Proxies selected (1)" in html
            assert 'href="/console/proxies/default.web-1"' in html

            status, html, _ = await get(port, "/console/policies")
            assert status == 200 and "mesh-timeout-all-default" in html

            for missing in (
                "/console/proxies/default.nobody",
                "/console/revisions/deadbeef",
                "/console/policies/MeshTimeout/default/nothing",
            ):
                status, html, _ = await get(port, missing)
                assert status == 404 and "Not found" in html, missing
            status, _, _ = await get(port, "/console/revisions", method="POST")
            assert status == 405
            status, html, _ = await get(port, "/console/")
            assert status == 200 and "<h1>Revisions</h1>" in html  # redirected
        finally:
            await client.close()
            await stranger.close()
            await plane.stop(0)

    run(scenario, timeout=60)
