"""deploy/grafana/reconciler-dashboard.json and the README's metrics table against what a
running server exposes: every query names a series the server has, every documented metric
exists, and every metric the server has is documented."""

from __future__ import annotations

import asyncio
import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ads_client import AdsClient
from git_repo import Repo
from harness import acked, run
from prometheus_client.parser import text_string_to_metric_families

from reconciler.cli.serve import pipeline_compile
from reconciler.resource_types import TypeUrl
from reconciler.serve.loop import Reconciler
from reconciler.serve.server import ControlPlane
from reconciler.source.choose import open_source

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "reconciler-dashboard.json"
README = ROOT / "README.md"
METRIC = re.compile(r"\breconciler_[a-z0-9_]+")
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
}
MESH = "type: Mesh\nname: default\n"
DATAPLANE = """\
type: Dataplane
mesh: default
name: web-1
networking:
  address: 127.0.1.2
  inbound:
    - port: 8080
      servicePort: 18080
      tags:
        kuma.io/service: web
        kuma.io/protocol: http
"""


def queries(dashboard: dict[str, Any]) -> Iterator[str]:
    """Every PromQL text of the dashboard: panel targets and template variable queries."""
    for panel in dashboard["panels"]:
        for target in panel.get("targets", ()):
            yield target["expr"]
    for variable in dashboard["templating"]["list"]:
        query = variable.get("query")
        if isinstance(query, dict):
            yield query["query"]


def exposed_by_a_running_server(tmp_path: Path) -> tuple[set[str], set[str]]:
    """(sample names a scrape may hold, metric family names) of a server that applied a
    revision and served a proxy that ACKed."""
    repo = Repo(tmp_path / "repo")
    repo.commit("mesh", {"mesh.yaml": MESH, "web.yaml": DATAPLANE})
    source = open_source(str(repo.path), state_dir=tmp_path / "state", branch="main")

    async def body() -> str:
        plane = ControlPlane()
        loop = Reconciler(source, pipeline_compile(), plane.cache, plane.metrics, interval=None)
        await plane.start("127.0.0.1:0", "127.0.0.1:0")
        try:
            outcome = await loop.reconcile()
            assert outcome is not None and outcome.applied
            client = AdsClient(f"127.0.0.1:{plane.xds_port}", "default.web-1", delta=True)
            await client.delta_request(TypeUrl.LISTENER)
            await client.ack(await client.recv())
            await acked(plane, "default.web-1")
            text = await asyncio.to_thread(metrics_text, plane.http_port)
            await client.close()
            return text
        finally:
            await plane.stop(0)

    text = run(body, timeout=60)
    names, families = set(), set()
    for family in text_string_to_metric_families(text):
        families.add(family.name)
        names.update(family.name + suffix for suffix in SUFFIXES[family.type])
        names.update(sample.name for sample in family.samples)
    return names, families


def metrics_text(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return str(response.read().decode())


def readme_table() -> dict[str, str]:
    """The README's metrics table: name -> type column."""
    rows = re.findall(r"^\| `(reconciler_[a-z0-9_]+)` \| ([^|]+) \|", README.read_text(), re.M)
    assert rows, "the README has no metrics table"
    return {name: kind.strip() for name, kind in rows}


def test_dashboard_is_json_and_queries_only_series_the_server_exposes(tmp_path: Path) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    texts = list(queries(dashboard))
    assert texts and all(METRIC.search(text) for text in texts), "a query names no metric"
    used = {name for text in texts for name in METRIC.findall(text)}

    names, families = exposed_by_a_running_server(tmp_path)
    assert sorted(used - names) == []
    # the delivery SLO series are on the dashboard
    assert {
        "reconciler_xds_publish_to_ack_seconds_bucket",
        "reconciler_xds_proxy_nacks_total",
        "reconciler_revision_info",
        "reconciler_revision_age_seconds",
        "reconciler_xds_connected_proxies",
    } <= used

    documented = readme_table()
    assert sorted(set(documented) - names - families) == []
    undocumented = {
        f
        for f in families
        if not any(d.startswith(f) for d in documented)
        and not f.endswith("_created")  # the client's creation time of each counter/histogram
    }
    assert sorted(undocumented) == []
    for name, kind in documented.items():
        family = next(f for f in families if name.startswith(f))
        assert kind.startswith({"_total": "counter"}.get(name[len(family) :], "")), (
            f"{name}: {kind}"
        )
    assert "deploy/grafana/reconciler-dashboard.json" in README.read_text()
