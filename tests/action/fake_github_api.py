"""A local stand-in for the GitHub issue-comments REST API (list, create, update).

It implements the real request shapes the action uses (``GET .../issues/N/comments`` with
``per_page``/``page``, ``POST .../issues/N/comments``, ``PATCH .../issues/comments/ID``),
checks the bearer token, and can answer 403 to writes like a fork PR's read-only token.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_LIST = re.compile(r"^/repos/([^/]+/[^/]+)/issues/(\d+)/comments$")
_ONE = re.compile(r"^/repos/([^/]+/[^/]+)/issues/comments/(\d+)$")


@dataclass
class FakeGitHub:
    token: str = "test-token"
    read_only: bool = False
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    next_id: int = 1000
    url: str = ""
    _server: ThreadingHTTPServer | None = None

    def add_comment(self, number: int, body: str) -> int:
        self.next_id += 1
        self.comments.setdefault(number, []).append({"id": self.next_id, "body": body})
        return self.next_id

    def start(self) -> FakeGitHub:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> dict[str, Any]:
                length = int(self.headers.get("Content-Length", "0"))
                return json.loads(self.rfile.read(length) or b"{}")

            def _route(self, method: str) -> None:
                url = urlsplit(self.path)
                fake.requests.append((method, self.path))
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    return self._send(401, {"message": "Bad credentials"})
                if method != "GET" and fake.read_only:
                    return self._send(403, {"message": "Resource not accessible by integration"})
                if m := _LIST.match(url.path):
                    number = int(m.group(2))
                    items = fake.comments.setdefault(number, [])
                    if method == "GET":
                        query = parse_qs(url.query)
                        per_page = int(query.get("per_page", ["30"])[0])
                        page = int(query.get("page", ["1"])[0])
                        start = (page - 1) * per_page
                        return self._send(200, items[start : start + per_page])
                    if method == "POST":
                        new_id = fake.add_comment(number, self._body()["body"])
                        return self._send(201, {"id": new_id, "body": items[-1]["body"]})
                if (m := _ONE.match(url.path)) and method == "PATCH":
                    for items in fake.comments.values():
                        for item in items:
                            if item["id"] == int(m.group(2)):
                                item["body"] = self._body()["body"]
                                return self._send(200, item)
                return self._send(404, {"message": "Not Found"})

            def do_GET(self) -> None:
                self._route("GET")

            def do_POST(self) -> None:
                self._route("POST")

            def do_PATCH(self) -> None:
                self._route("PATCH")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
