"""The HTTP side, on the same asyncio loop as gRPC: health, readiness, status, metrics, config.

Routes: ``/healthz`` (the process runs), ``/readyz`` (a first good snapshot exists),
``/status`` (JSON, see DESIGN §8), ``/metrics`` (Prometheus text), ``/config/<mesh>.<name>``
(what that proxy is served, as JSON), ``/console/...`` (the read-only web console,
``serve/console/``). More routes (the Git webhook) are added through
``ControlPlane.http_hooks`` before start.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from typing import Any, Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from reconciler.errors import ServeError
from reconciler.serve.console.routes import add_console
from reconciler.serve.loop import Reconciler
from reconciler.serve.metrics import Metrics
from reconciler.snapshot import SnapshotCache

log = logging.getLogger("reconciler.serve")


class Served(Protocol):
    """What the HTTP side reads (a :class:`~reconciler.serve.server.ControlPlane`)."""

    @property
    def cache(self) -> SnapshotCache: ...

    @property
    def metrics(self) -> Metrics: ...

    @property
    def reconciler(self) -> Reconciler | None: ...

    def status_json(self) -> dict[str, Any]: ...


PLANE_KEY: web.AppKey[Served] = web.AppKey("plane")


def _json(payload: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(payload, indent=2, sort_keys=False) + "\n",
        status=status,
        content_type="application/json",
    )


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


async def readyz(request: web.Request) -> web.Response:
    plane = request.app[PLANE_KEY]
    if plane.cache.ready:
        return web.Response(text="ready\n")
    why = plane.status_json().get("waitingFor") or "waiting for the first revision"
    return web.Response(text=f"not ready: no revision applied yet ({why})\n", status=503)


async def status(request: web.Request) -> web.Response:
    return _json(request.app[PLANE_KEY].status_json())


async def metrics(request: web.Request) -> web.Response:
    body = request.app[PLANE_KEY].metrics.render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def config(request: web.Request) -> web.Response:
    plane = request.app[PLANE_KEY]
    proxy = request.match_info["proxy"]
    snap = plane.cache.get(proxy)
    if snap is None:
        return _json(
            {
                "error": f"no proxy {proxy!r} in the served revision",
                "proxies": plane.cache.node_ids(),
            },
            status=404,
        )
    return _json(snap.to_json())


def build_app(
    plane: Served, hooks: list[Callable[[web.Application], None]] | None = None
) -> web.Application:
    app = web.Application(client_max_size=1024**2)
    app[PLANE_KEY] = plane
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/status", status)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/config/{proxy}", config)
    add_console(app, plane)
    for hook in hooks or ():
        hook(app)
    return app


async def start_http(app: web.Application, address: str) -> tuple[web.AppRunner, int]:
    host, _, port_text = address.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    try:
        port = int(port_text)
    except ValueError as exc:
        raise ServeError(f"not a HOST:PORT address: {address!r}") from exc
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise ServeError(
            f"--http-address {address}: cannot listen: {_reason(exc)}",
            hint="is another server using the port? pick another with --http-address",
        ) from exc
    addresses = runner.addresses
    bound = addresses[0][1] if addresses else port
    log.info("HTTP (status, metrics) listening on http://%s:%d", host, bound)
    return runner, int(bound)


def _reason(exc: OSError) -> str:
    """The system's words for a bind failure (aiohttp wraps them in a long sentence)."""
    return os.strerror(exc.errno).lower() if exc.errno else str(exc)
