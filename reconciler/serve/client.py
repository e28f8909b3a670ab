"""Reading a running ``reconciler serve`` over its HTTP side (:mod:`.http`): ``/status`` and
``/config/<proxy>``.

``reconciler status``, ``reconciler diff --server`` and the demo ask a server; this is the
one place that does, with one error (a UsageError) for a server that cannot be read.
:func:`fetch_fleet_status` asks several replicas and merges their answers (each replica
lists the proxies connected to it).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
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


def fetch_fleet_status(servers: Sequence[str], *, timeout: float = 5.0) -> dict[str, Any]:
    """The ``/status`` of every replica, merged (:func:`merge_statuses`); a replica that
    cannot be read is listed with its error, not raised."""
    answers: list[tuple[str, dict[str, Any] | None, str | None]] = []
    for server in servers:
        try:
            answers.append((server, fetch_status(server, timeout=timeout), None))
        except UsageError as exc:
            answers.append((server, None, str(exc)))
    return merge_statuses(answers)


def merge_statuses(
    answers: Sequence[tuple[str, dict[str, Any] | None, str | None]],
) -> dict[str, Any]:
    """One document for several replicas: ``servers`` (each one's revisions, pin and error),
    ``lastAppliedRevision`` (None unless every replica that answered applied the same one),
    ``proxies`` (each proxy once, from the replica it is connected to, with ``server``; a
    proxy connected nowhere once, with ``server`` None; sorted by id)."""
    servers: list[dict[str, Any]] = []
    connected: dict[str, list[dict[str, Any]]] = {}
    idle: dict[str, dict[str, Any]] = {}
    for server, status, error in answers:
        if status is None:
            servers.append({"server": server, "error": error})
            continue
        servers.append(
            {
                "server": server,
                "error": None,
                **{key: status.get(key) for key in _PER_SERVER},
            }
        )
        for proxy in status.get("proxies", []):
            if proxy.get("connected"):
                connected.setdefault(proxy["id"], []).append({**proxy, "server": server})
            else:
                idle.setdefault(proxy["id"], {**proxy, "server": None})
    applied = sorted({str(s["lastAppliedRevision"]) for s in servers if s["error"] is None})
    proxies = [row for node in sorted(connected) for row in connected[node]]
    proxies += [idle[node] for node in sorted(idle) if node not in connected]
    proxies.sort(key=lambda p: str(p["id"]))
    return {
        "servers": servers,
        "lastAppliedRevision": applied[0] if len(applied) == 1 else None,
        "revisionsAgree": len(applied) <= 1,
        "proxies": proxies,
    }


_PER_SERVER = (
    "lastAppliedRevision",
    "lastAttemptedRevision",
    "lastError",
    "following",
    "pinned",
    "control",
)
