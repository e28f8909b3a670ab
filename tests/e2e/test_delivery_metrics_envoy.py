"""A real Envoy's ACKs in ``reconciler serve``'s delivery metrics, with JSON logs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from git_repo import Repo
from polling import wait_for
from xds_harness import Envoy, free_port

from scrape import Scrape, scrape_sync  # isort: skip
from serve_process import Server  # isort: skip

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

NODE = "default.web-1"
MESH = "type: Mesh\nname: default\n"
DATAPLANE = """\
type: Dataplane
mesh: default
name: web-1
networking:
  address: 127.0.0.1
  inbound:
    - port: {port}
      servicePort: {app}
      tags:
        kuma.io/service: web
        kuma.io/protocol: http
"""
ACK = "reconciler_xds_publish_to_ack_seconds"


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line of the log, each one JSON object (a line that is not fails the test)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("sotw", [pytest.param(True, id="sotw"), pytest.param(False, id="delta")])
def test_envoy_ack_shows_up_per_proxy_and_type(tmp_path: Path, sotw: bool) -> None:
    repo = Repo(tmp_path / "repo")
    sha = repo.commit(
        "web",
        {"mesh.yaml": MESH, "web.yaml": DATAPLANE.format(port=free_port(), app=free_port())},
    )
    server = Server(
        repo.path, tmp_path / "state", tmp_path / "serve.log", args=("--log-format", "json")
    )
    envoy = None
    try:
        port = int(server.url.rpartition(":")[2])
        envoy = Envoy(tmp_path / "envoy", NODE, server.xds_port, sotw=sotw)

        def lds_acked() -> Scrape | None:
            metrics = scrape_sync(port)
            count = metrics.value(f"{ACK}_count", mesh="default", proxy=NODE, type="LDS")
            return metrics if count == 1.0 else None

        metrics = wait_for(lds_acked, 30, "the Envoy's LDS ACK in /metrics")
        protocol = "sotw" if sotw else "delta"
        assert metrics.value("reconciler_xds_connected_proxies", protocol=protocol) == 1.0
        assert metrics.value("reconciler_revision_info", revision=sha) == 1.0
        for short in ("CDS", "LDS"):
            assert metrics.value(f"{ACK}_count", mesh="default", proxy=NODE, type=short) == 1.0
            assert (
                metrics.value(f"{ACK}_bucket", mesh="default", proxy=NODE, type=short, le="120.0")
                == 1.0
            )
            assert (
                metrics.value(
                    "reconciler_xds_proxy_nacks_total", mesh="default", proxy=NODE, type=short
                )
                == 0.0
            )
        assert envoy.stat("listener_manager.lds.update_success") >= 1

        records = json_lines(server.text())
        assert {r["level"] for r in records} <= {"debug", "info", "warning", "error"}
        assert all(r["time"].endswith("+00:00") and r["logger"] and r["message"] for r in records)
        connected = [r for r in records if r.get("proxy") == NODE and r.get("protocol")]
        assert connected and connected[0]["protocol"] == protocol
        assert connected[0]["message"].startswith(f"{NODE} connected ({protocol}")
        applied = [r for r in records if r.get("revision") == sha]
        assert applied and applied[0]["proxies"] == 1

        envoy.stop()
        envoy = None
        wait_for(
            lambda: not list(scrape_sync(port).matching(f"{ACK}_count", proxy=NODE)),
            15,
            "the proxy's series to go with it",
        )
    finally:
        if envoy is not None:
            envoy.stop()
        server.stop()
