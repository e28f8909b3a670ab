"""`reconciler bootstrap`, `reconciler status` and `reconciler serve` argument handling."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli.main import main

ENVOY = Path(sys.executable).parent / "envoy"

STATUS = {
    "lastAttemptedRevision": "b" * 40,
    "lastAppliedRevision": "a" * 40,
    "lastError": {
        "code": "RC605",
        "message": "revision bbbbbbbb has errors; nothing was published",
        "diagnostics": [{"text": "web.yaml:9:13: error[RC206] networking.inbound[0].port: ..."}],
    },
    "source": {"url": "/srv/mesh", "branch": None, "lastSuccessTime": None, "stale": False},
    "ready": True,
    "proxies": [
        {
            "id": "default.web-1",
            "connected": True,
            "protocol": "delta",
            "versions": {
                "CDS": {
                    "sent": "1a2b3c4d5e-c1c1c1c1c1",
                    "acked": "1a2b3c4d5e-c1c1c1c1c1",
                    "nacked": "",
                },
                "RDS": {"sent": "r2", "acked": "r1", "nacked": "r2"},
            },
            "lastNack": {"type": "RDS", "version": "r2", "message": "x\nbad route"},
            "error": None,
        },
        {
            "id": "default.ghost",
            "connected": True,
            "protocol": "sotw",
            "versions": {},
            "lastNack": None,
            "error": "node id 'default.ghost' names no Dataplane; the proxy gets nothing",
        },
    ],
}


@pytest.fixture
def status_server() -> Any:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(STATUS).encode()
            self.send_response(200 if self.path == "/status" else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_status_prints_a_table(status_server: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--server", status_server]) == 1  # lastError set
    out = capsys.readouterr().out
    assert "applied aaaaaaaaaaaa  attempted bbbbbbbbbbbb" in out
    assert "[RC605]" in out and "web.yaml:9:13" in out
    lines = out.splitlines()
    web = next(line for line in lines if line.startswith("default.web-1"))
    assert (
        "delta" in web
        and "1a2b3c4d-c1c1c1 " in web
        and "r1!" in web
        and "NACK RDS: bad route" in web
    )
    ghost = next(line for line in lines if line.startswith("default.ghost"))
    assert "names no Dataplane" in ghost


def test_status_json_and_unreachable(
    status_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["status", "--server", status_server, "--json"])
    assert json.loads(capsys.readouterr().out)["proxies"][0]["id"] == "default.web-1"
    assert main(["status", "--server", "http://127.0.0.1:1"]) == 2
    assert "is `reconciler serve` running?" in capsys.readouterr().err


def test_bootstrap_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bootstrap", "--proxy", "web-1"]) == 2
    assert "is not MESH.NAME" in capsys.readouterr().err
    assert main(["bootstrap", "--proxy", "default.web-1", "--xds-address", "nowhere"]) == 2
    assert "is not HOST:PORT" in capsys.readouterr().err


def test_serve_refuses_a_missing_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.e2e
@pytest.mark.parametrize("flags", [[], ["--sotw"]], ids=["delta", "sotw"])
def test_bootstrap_is_accepted_by_envoy(
    tmp_path: Path, flags: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bootstrap", "--proxy", "default.web-1", "--admin-port", "0", *flags]) == 0
    text = capsys.readouterr().out
    assert ("api_type: GRPC" if flags else "api_type: DELTA_GRPC") in text
    assert 'id: "default.web-1"' in text
    path = tmp_path / "bootstrap.yaml"
    path.write_text(text)
    result = subprocess.run(
        [str(ENVOY), "--mode", "validate", "-c", str(path), "--disable-hot-restart", "-l", "error"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
