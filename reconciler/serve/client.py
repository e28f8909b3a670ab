"""Reading a running ``reconciler serve`` over its HTTP side (:mod:`.http`): ``/status`` and
``/config/<proxy>``.

``reconciler status``, ``reconciler diff --server`` and the demo ask a server; this is the
one place that does, with one error (a UsageError) for a server that cannot be read.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from reconciler.addresses import server_url
from reconciler.errors import UsageError

DEFAULT_SERVER = "http://127.0.0.1:5680"


def get_json(server: str, path: str, *, timeout: float = 5.0) -> Any:
    """The JSON document at ``path`` on ``server``, a URL or HOST:PORT (a UsageError when it
    cannot be read)."""
    url = server_url(server) + path
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise UsageError(
            f"cannot read {url}: {getattr(exc, 'reason', exc)}",
            hint="is `reconciler serve` running? pass its --http-address as --server",
        ) from exc


def fetch_status(server: str, *, timeout: float = 5.0) -> dict[str, Any]:
    """The server's ``/status`` document."""
    status: dict[str, Any] = get_json(server, "/status", timeout=timeout)
    return status


def fetch_config(server: str, proxy: str, *, timeout: float = 5.0) -> dict[str, Any]:
    """What the server serves ``proxy`` (``/config/<node id>``)."""
    config: dict[str, Any] = get_json(
        server, "/config/" + urllib.parse.quote(proxy, safe=""), timeout=timeout
    )
    return config
