"""MeshMetric with real Envoys: a scrape of the proxy's metrics port returns Envoy's metrics.

``client`` calls ``web`` through its outbound; a mesh-wide MeshMetric gives both proxies a
Prometheus endpoint on their Dataplane address, served by Envoy itself (a listener routing
the path to its admin ``/stats/prometheus``). A new revision moves the port and the path,
turns ``includeUnused`` on, then selects profile ``None``: each scrape follows.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from xds_harness import App, PlaneThread, compile_mesh, free_port, get, serve_mesh, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(150)]
WEB, CLIENT = "127.0.18.1", "127.0.18.2"
SENT = 3
UPSTREAM_RQ = 'envoy_cluster_upstream_rq_total{envoy_cluster_name="web"}'
UNUSED = 'envoy_cluster_upstream_rq_timeout{envoy_cluster_name="web"}'


def scrape(address: str, port: int, path: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection(address, port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def samples(body: str) -> dict[str, float]:
    """Prometheus text format: ``name{labels} value`` per line, comments skipped."""
    out = {}
    for line in body.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


def refused(address: str, port: int) -> bool:
    try:
        scrape(address, port, "/")
    except OSError:
        return True
    return False


class Mesh:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.items: list[Any] = []
        self.web = App("web")
        self.items.append(self.web)
        self.outbound = free_port(CLIENT)
        self.admin = {"default.web-1": free_port(), "default.client-1": free_port()}
        self.plane = PlaneThread()
        self.items.append(self.plane)

    def documents(self, metric: str) -> list[str]:
        return [
            "type: Mesh\nname: default\nskipCreatingInitialPolicies: ['*']\n",
            f"""
type: Dataplane
mesh: default
name: web-1
networking:
  address: {WEB}
  admin: {{port: {self.admin["default.web-1"]}}}
  inbound:
    - port: {free_port(WEB)}
      servicePort: {self.web.endpoint[1]}
      tags: {{kuma.io/service: web, kuma.io/protocol: http}}
""",
            f"""
type: Dataplane
mesh: default
name: client-1
networking:
  address: {CLIENT}
  admin: {{port: {self.admin["default.client-1"]}}}
  inbound:
    - port: {free_port(CLIENT)}
      tags: {{kuma.io/service: client, kuma.io/protocol: http}}
  outbound:
    - address: {CLIENT}
      port: {self.outbound}
      tags: {{kuma.io/service: web}}
""",
            metric,
        ]

    def serve(self, metric: str) -> None:
        self.items.extend(serve_mesh(self.plane, self.tmp_path, self.documents(metric), self.admin))

    def commit(self, metric: str) -> None:
        """A new revision of the same proxies, published and ACKed."""
        configs = compile_mesh(self.documents(metric))
        self.plane.publish(*configs.values())
        for node in configs:
            wait_for(lambda n=node: self.plane.settled(n), 20, f"{node} ACKs")

    def stop(self) -> None:
        for item in reversed(self.items):
            item.stop()


def metric(port: int, path: str, sidecar: str = "profiles: {appendProfiles: [{name: All}]}") -> str:
    return f"""
type: MeshMetric
name: metrics
mesh: default
spec:
  targetRef: {{kind: Mesh}}
  default:
    sidecar: {{{sidecar}}}
    backends:
      - type: Prometheus
        prometheus: {{port: {port}, path: {path}}}
"""


@pytest.fixture
def mesh(tmp_path: Path) -> Iterator[Mesh]:
    built = Mesh(tmp_path)
    try:
        yield built
    finally:
        built.stop()


def test_scrape_follows_port_path_and_sidecar_changes(mesh: Mesh) -> None:
    first = free_port(CLIENT)
    mesh.serve(metric(first, "/metrics"))
    for _ in range(SENT):
        assert get((CLIENT, mesh.outbound)) == "web"

    status, body = scrape(CLIENT, first, "/metrics")
    assert status == 200, body
    assert samples(body)[UPSTREAM_RQ] == SENT
    assert UNUSED not in samples(body), "includeUnused unset: only used metrics (usedonly)"
    web_status, web_body = scrape(WEB, first, "/metrics")
    assert web_status == 200 and "envoy_server_live" in web_body  # every selected proxy

    second = free_port(CLIENT)
    mesh.commit(
        metric(second, "/prom", "includeUnused: true, profiles: {appendProfiles: [{name: All}]}")
    )
    status, body = scrape(CLIENT, second, "/prom")
    assert status == 200, body
    assert samples(body)[UPSTREAM_RQ] == SENT
    assert samples(body)[UNUSED] == 0, "includeUnused: true serves unused metrics too"
    assert scrape(CLIENT, second, "/metrics")[0] == 404, "the old path is no longer routed"
    wait_for(lambda: refused(CLIENT, first), 10, "the old metrics port closes")

    mesh.commit(metric(second, "/prom", "profiles: {appendProfiles: [{name: None}]}"))
    status, body = scrape(CLIENT, second, "/prom")
    assert status == 200, body
    assert not [line for line in body.splitlines() if line.startswith("envoy_")], body[:500]
