"""Tiny applications behind each inbound: HTTP servers that answer with who they are."""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class App:
    def __init__(self, answer: str, port: int, host: str = "127.0.0.1") -> None:
        body = (answer + "\n").encode()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def request(
    host: str,
    port: int,
    headers: dict[str, str] | None = None,
    timeout: float = 3.0,
    path: str = "/",
) -> tuple[int, str, dict[str, str]]:
    """(status, body, response headers) of ``GET path``; status 0 and the error on failure."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        body = response.read().decode(errors="replace").strip()
        return response.status, body, {k.lower(): v for k, v in response.getheaders()}
    except OSError as exc:
        return 0, f"{type(exc).__name__}: {exc}", {}
    finally:
        conn.close()
