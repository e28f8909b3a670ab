"""One control-plane process: the snapshot cache, the ADS server, the HTTP side, the loop.

``ControlPlane`` wires the parts together and owns their lifetime; ``cli/serve.py`` adds the
signal handling and the source and compiler. Tests start it in-process on port 0.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from collections.abc import Callable
from typing import Any

from aiohttp import web

from reconciler.serve.ads import start_ads_server
from reconciler.serve.events import NO_EVENTS, EventSink
from reconciler.serve.http import build_app, start_http
from reconciler.serve.loop import Reconciler
from reconciler.serve.metrics import Metrics
from reconciler.serve.proxies import ProxyRegistry, add_served_versions
from reconciler.serve.stream import ServerContext
from reconciler.snapshot import SnapshotCache

log = logging.getLogger("reconciler.serve")


class ControlPlane:
    def __init__(
        self,
        *,
        cache: SnapshotCache | None = None,
        metrics: Metrics | None = None,
        reconciler: Reconciler | None = None,
        verifier: Any = None,
        events: EventSink = NO_EVENTS,
    ) -> None:
        self.cache = cache or SnapshotCache()
        self.metrics = metrics or Metrics()
        self.registry = ProxyRegistry(events)
        self.ctx = ServerContext(self.cache, self.registry, self.metrics, verifier)
        self.reconciler = reconciler
        self.http_hooks: list[Callable[[web.Application], None]] = []
        self.xds_port = 0
        self.http_port = 0
        self._grpc: Any = None
        self._http: web.AppRunner | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def start(
        self, xds_address: str = "127.0.0.1:0", http_address: str | None = "127.0.0.1:0"
    ) -> None:
        self._grpc, self.xds_port = await start_ads_server(self.ctx, xds_address)
        try:
            if http_address is not None:
                self._http, self.http_port = await start_http(
                    build_app(self, self.http_hooks), http_address
                )
        except BaseException:
            await self._grpc.stop(0)
            raise
        if self.reconciler is not None:
            self._loop_task = asyncio.create_task(self.reconciler.run(self._stop))

    async def stop(self, grace: float = 1.0) -> None:
        self._stop.set()
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
        if self._grpc is not None:
            await self._grpc.stop(grace)
        if self._http is not None:
            await self._http.cleanup()

    def status_json(self) -> dict[str, Any]:
        loop_status: dict[str, Any] = (
            self.reconciler.status_json()
            if self.reconciler is not None
            else {
                "lastAttemptedRevision": None,
                "lastAppliedRevision": None,
                "lastError": None,
                "source": None,
            }
        )
        proxies = self.registry.to_json(self.cache.node_ids())
        add_served_versions(
            proxies,
            self.cache,
            self.reconciler.introduced_by if self.reconciler is not None else _no_record,
        )
        return {**loop_status, "ready": self.cache.ready, "proxies": proxies}


def _no_record(version: str) -> str | None:
    return None


def raise_open_files_limit(expected_proxies: int = 1000) -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit (one ADS stream holds one descriptor)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError) as exc:
            log.warning("could not raise the open-files limit from %d to %d: %s", soft, hard, exc)
    log.info("open-files limit %d (hard %d): room for about %d ADS streams", soft, hard, soft - 64)
    if soft - 64 < expected_proxies:
        log.warning(
            "open-files limit %d is below the %d proxies expected: raise it (ulimit -n) or the "
            "server stalls with 'Too many open files'",
            soft,
            expected_proxies,
        )
    return soft, hard
