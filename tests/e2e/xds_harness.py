"""Real Envoys, tiny HTTP apps and a control plane in a background thread, all on 127.0.0.0/8.

Every wait is bounded; every process started here is stopped by its own handle.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Coroutine
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from polling import wait_for

from reconciler.cli.bootstrap import BootstrapOptions, render
from reconciler.compile.compiler import compile_resources
from reconciler.load import SourceFile
from reconciler.pipeline import analyze
from reconciler.resource_types import ProxyConfig
from reconciler.serve.server import ControlPlane
from reconciler.snapshot import PublishResult, build_snapshots

ENVOY = Path(sys.executable).parent / "envoy"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class PlaneThread:
    """A ControlPlane on its own event loop thread; the test thread stays synchronous."""

    def __init__(self, xds_port: int = 0) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.plane = ControlPlane()
        self.call(self.plane.start(f"127.0.0.1:{xds_port}", "127.0.0.1:0"))

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 10.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    @property
    def xds_port(self) -> int:
        return self.plane.xds_port

    def publish(self, *configs: ProxyConfig) -> PublishResult:
        async def publish() -> PublishResult:
            snapshots, problems = build_snapshots(
                {c.node_id: c for c in configs}, self.plane.cache.interner
            )
            assert not problems, problems
            return self.plane.cache.publish(snapshots)

        return self.call(publish())  # type: ignore[no-any-return]

    def status(self) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.plane.http_port}/status"
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.load(response)  # type: ignore[no-any-return]

    def proxy(self, node_id: str) -> dict[str, Any]:
        return next(p for p in self.status()["proxies"] if p["id"] == node_id)

    def pushes(self) -> float:
        text = self.plane.metrics.render().decode()
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("reconciler_xds_pushes_total{")
        )

    def settled(self, node_id: str, types: tuple[str, ...] = ("CDS", "EDS", "LDS", "RDS")) -> bool:
        """Every type of ``node_id`` ACKed at the version currently published."""
        snap = self.plane.cache.get(node_id)
        if snap is None:
            return False
        versions = self.proxy(node_id)["versions"]
        current = {t.short: s.version for t, s in snap.types.items() if s.resources}
        return all(versions.get(t, {}).get("acked") == current[t] for t in types if t in current)

    def stop(self) -> None:
        try:
            self.call(self.plane.stop(0))
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
            self.loop.close()


class Envoy:
    """The real Envoy, bootstrapped by ``reconciler bootstrap``'s renderer."""

    def __init__(
        self,
        workdir: Path,
        node_id: str,
        xds_port: int | list[int],
        *,
        sotw: bool,
        token: str | None = None,
        admin_port: int = 0,
    ) -> None:
        """``xds_port``: the server's, or every replica's (one ADS cluster endpoint each);
        ``admin_port``: 0 picks a free one (a Dataplane's ``networking.admin.port`` when the
        proxy's config points at its own admin: MeshMetric)."""
        self.node_id = node_id
        workdir.mkdir(parents=True, exist_ok=True)
        config = workdir / "bootstrap.yaml"
        ports = xds_port if isinstance(xds_port, list) else [xds_port]
        addresses = tuple(f"127.0.0.1:{port}" for port in ports)
        options = BootstrapOptions(
            node_id, addresses, admin_port=admin_port, sotw=sotw, token=token
        )
        config.write_text(render(options))
        self.admin_path = workdir / "admin-address"
        self.log = (workdir / "envoy.log").open("wb")
        self.process = subprocess.Popen(
            [
                str(ENVOY),
                "-c",
                str(config),
                "--disable-hot-restart",
                "--concurrency",
                "1",
                "-l",
                "warning",
                "--admin-address-path",
                str(self.admin_path),
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.admin = wait_for(self._admin, 10, f"{node_id} admin address")

    def _admin(self) -> str | None:
        if self.process.poll() is not None:
            raise RuntimeError(f"envoy {self.node_id} exited with {self.process.returncode}")
        text = self.admin_path.read_text().strip() if self.admin_path.exists() else ""
        return text or None

    def stat(self, name: str) -> int:
        url = f"http://{self.admin}/stats?filter=^{name}$"
        with urllib.request.urlopen(url, timeout=5) as response:
            for line in response.read().decode().splitlines():
                key, _, value = line.partition(": ")
                if key == name:
                    return int(value)
        return 0

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.log.close()


class App:
    """An HTTP server that answers every GET with its name (after ``slow_seconds`` for
    paths starting with ``/slow``: an upstream slower than a timeout under test)."""

    def __init__(
        self, name: str, host: str = "127.0.0.1", port: int = 0, *, slow_seconds: float = 0.0
    ) -> None:
        body = name.encode()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                if slow_seconds and self.path.startswith("/slow"):
                    time.sleep(slow_seconds)
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.endpoint = (host, int(self.server.server_address[1]))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def get(endpoint: tuple[str, int], timeout: float = 2.0) -> str:
    conn = http.client.HTTPConnection(*endpoint, timeout=timeout)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        body = response.read().decode()
        return body if response.status == 200 else f"HTTP {response.status}: {body}"
    finally:
        conn.close()


class Load:
    """Requests in a loop through one listener (a new connection each time) until stopped."""

    def __init__(self, endpoint: tuple[str, int], max_seconds: float = 60.0) -> None:
        self.endpoint = endpoint
        self.answers: list[str] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._deadline = time.monotonic() + max_seconds
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set() and time.monotonic() < self._deadline:
            try:
                answer = get(self.endpoint)
            except OSError as exc:
                answer = f"error: {exc!r}"
            (self.answers if not answer.startswith(("HTTP ", "error")) else self.errors).append(
                answer
            )
            time.sleep(0.002)

    def count(self) -> Counter[str]:
        return Counter(self.answers)

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(10)


def compile_mesh(documents: list[str]) -> dict[str, ProxyConfig]:
    """Every proxy's config compiled from ``documents`` (YAML) by the real pipeline."""
    text = "\n---\n".join(documents)
    analysis = analyze([SourceFile("mesh.yaml", text.encode())])
    assert analysis.ok, [d.format_text() for d in analysis.diagnostics]
    return compile_resources(list(analysis.resources)).configs


def serve_mesh(
    plane: PlaneThread,
    workdir: Path,
    documents: list[str],
    admin_ports: dict[str, int] | None = None,
) -> list[Envoy]:
    """Compile ``documents`` (YAML) with the real pipeline, publish them, start a real Envoy
    (Delta ADS) per proxy and wait until each has ACKed; the Envoys, for the caller to stop.
    ``admin_ports``: node id -> admin port (others pick a free one)."""
    configs = compile_mesh(documents)
    plane.publish(*configs.values())
    envoys = [
        Envoy(
            workdir / node.split(".", 1)[1],
            node,
            plane.xds_port,
            sotw=False,
            admin_port=(admin_ports or {}).get(node, 0),
        )
        for node in configs
    ]
    for node in configs:
        wait_for(lambda n=node: plane.settled(n), 20, f"{node} ACKs")
    return envoys
