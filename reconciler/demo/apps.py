"""Tiny applications behind each inbound: HTTP servers that answer with who they are."""

from __future__ import annotations

import http.client
import json
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


class ZipkinCollector:
    """A tiny Zipkin-compatible collector: keeps the spans POSTed to ``/api/v2/spans`` (JSON,
    the format Envoy's Zipkin tracer sends with ``apiVersion: httpJson``)."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.spans: list[dict[str, Any]] = []
        lock = threading.Lock()
        spans = self.spans

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = _read_body(self)
                if self.path == "/api/v2/spans":
                    try:
                        found = json.loads(body)
                    except ValueError:
                        found = []
                    with lock:
                        spans.extend(s for s in found if isinstance(s, dict))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def traces(self) -> dict[str, list[dict[str, Any]]]:
        """Spans by trace id."""
        out: dict[str, list[dict[str, Any]]] = {}
        for span in list(self.spans):
            out.setdefault(str(span.get("traceId")), []).append(span)
        return out

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    """The request body, sized by Content-Length or sent in chunks (as Envoy sends spans)."""
    if handler.headers.get("Transfer-Encoding", "").lower() != "chunked":
        return handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
    chunks = []
    for _ in range(100_000):  # a chunked body ends with a chunk of size 0
        size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
        chunks.append(handler.rfile.read(size))
        handler.rfile.readline()
        if size == 0:
            break
    return b"".join(chunks)
