"""One ADS stream: what State-of-the-World and Delta share.

A stream is a single task draining one queue. The queue receives the proxy's requests (from a
reader task) and a marker when the proxy's snapshot changes (from the cache's watch), so
every decision about one stream happens in order, on the event loop, without locks. After
each event the protocol's :meth:`AdsStream.push` sends what is due, in make-before-break
order: clusters and endpoints first; listeners and routes only once the clusters and
endpoints in flight are ACKed (or :data:`GATE_TIMEOUT` passed); cluster removals only once
listeners and routes have settled.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc

from reconciler import codes
from reconciler.identity.tokens import METADATA_KEY, TokenRejected
from reconciler.resource_types import TypeUrl
from reconciler.serve.metrics import Metrics
from reconciler.serve.proxies import ProxyRegistry, ProxyState
from reconciler.snapshot import Snapshot, SnapshotCache

log = logging.getLogger("reconciler.serve")

GATE_TIMEOUT = 5.0
"""Seconds listeners and routes wait for in-flight clusters/endpoints to be ACKed."""

TYPE_URLS = {str(t): t for t in TypeUrl}

TOKEN_RECHECK = 10.0
"""Seconds between checks that an open stream's token is still valid (not revoked)."""

_CHANGED = object()
_WAKE = object()
_END = object()


@dataclass(frozen=True, slots=True)
class ServerContext:
    cache: SnapshotCache
    registry: ProxyRegistry
    metrics: Metrics
    verifier: Any = None
    """A ``reconciler.identity.verifier.TokenVerifier``: when set, a stream gets nothing
    until the ``authorization`` metadata proves its node id."""


class AdsStream:
    protocol = ""

    def __init__(self, ctx: ServerContext, context: Any) -> None:
        self.ctx = ctx
        self.context = context
        self.queue: asyncio.Queue[object] = asyncio.Queue()
        self.node_id = ""
        self.proxy: ProxyState | None = None
        self.snapshot: Snapshot | None = None
        self._unwatch: Any = None
        self._change_queued = False
        self._wake_at = 0.0
        self._nonce = 0
        self._claims: Any = None
        """The verified proxy token of this stream (when the server checks tokens)."""
        self._admitted = False
        self.changed_at = 0.0
        """When this stream's snapshot last changed (monotonic): the publish time, or the
        attach time for the snapshot it found; publish-to-ACK is measured from here (or from
        the request for a type, if later)."""

    async def run(self, requests: AsyncIterator[Any]) -> None:
        reader = asyncio.create_task(self._read(requests))
        try:
            while True:
                item = await self.queue.get()
                if item is _END:
                    return
                if self._admitted:
                    await self._recheck_token()
                if item is _CHANGED:
                    self._change_queued = False
                    self.changed_at = self.ctx.cache.published_at
                    self._refresh()
                elif item is not _WAKE:
                    if self.proxy is None:
                        await self._attach(item)
                    await self.on_request(item)
                if self.snapshot is not None:
                    await self.push()
        finally:
            reader.cancel()
            self._detach()

    async def _read(self, requests: AsyncIterator[Any]) -> None:
        try:
            async for request in requests:
                self.queue.put_nowait(request)
        except (grpc.RpcError, asyncio.CancelledError):
            pass
        finally:
            self.queue.put_nowait(_END)

    async def _attach(self, request: Any) -> None:
        node_id = self.node_of(request)
        if not node_id:
            log.warning("error[%s] ADS stream without node id refused", codes.NODE_ID_MISSING)
            await self.context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"[{codes.NODE_ID_MISSING}] the first request must carry node.id "
                "('<mesh>.<dataplane name>')",
            )
        if self.ctx.verifier is not None:
            await self._authenticate(node_id)
        self.node_id = node_id
        proxy = self.proxy = self.ctx.registry.get(node_id)
        proxy.streams += 1
        proxy.protocol = self.protocol
        proxy.peer = str(self.context.peer() or "")
        if proxy.series is None:
            proxy.series = self.ctx.metrics.proxy_series(node_id)
        self.ctx.metrics.connected.labels(self.protocol).inc()
        self._unwatch = self.ctx.cache.watch(node_id, self._on_change)
        self.changed_at = time.monotonic()
        self._refresh()
        log.info(
            "%s connected (%s, %s)",
            node_id,
            self.protocol,
            proxy.peer,
            extra={"proxy": node_id, "protocol": self.protocol, "peer": proxy.peer},
        )

    async def _authenticate(self, node_id: str) -> None:
        metadata = dict(self.context.invocation_metadata() or ())
        try:
            self._claims = self.ctx.verifier.admit(metadata.get(METADATA_KEY), node_id)
        except TokenRejected as exc:
            await self._refuse(node_id, exc)
        self._admitted = True
        self.ctx.registry.get(node_id).auth_error = None
        self._schedule_token_check()

    async def _recheck_token(self) -> None:
        """End the stream once its token expires or is revoked (checked on every event and
        at least every :data:`TOKEN_RECHECK` seconds)."""
        problem = self.ctx.verifier.recheck(self._claims, self.node_id)
        if problem is not None:
            await self._refuse(self.node_id, problem)
        self._schedule_token_check()

    def _schedule_token_check(self) -> None:
        if self._claims is None:
            return  # rechecked on every event: a token may become required
        left = self._claims.expires_at - time.time()
        self.wake_at(time.monotonic() + max(0.0, min(left, TOKEN_RECHECK)))

    async def _refuse(self, node_id: str, exc: Any) -> None:
        self.ctx.registry.get(node_id).refuse(str(exc.problem), str(exc))
        await self.context.abort(
            grpc.StatusCode.UNAUTHENTICATED, f"[{codes.PROXY_TOKEN_REJECTED}] {exc}"
        )

    def _refresh(self) -> None:
        self.snapshot = self.ctx.cache.get(self.node_id)
        if self.snapshot is None and self.proxy is not None:
            self.ctx.registry.mark_unknown(self.proxy)
            self.ctx.metrics.unknown_nodes.inc()

    def _detach(self) -> None:
        if self._unwatch is not None:
            self._unwatch()
        if self.proxy is not None:
            self.proxy.streams -= 1
            if self.proxy.streams == 0 and self.proxy.series is not None:
                self.proxy.series.drop()  # bounded cardinality: only connected proxies
                self.proxy.series = None
            self.ctx.registry.release(self.proxy)
            self.ctx.metrics.connected.labels(self.protocol).dec()
            log.info(
                "%s disconnected (%s)",
                self.node_id,
                self.protocol,
                extra={"proxy": self.node_id, "protocol": self.protocol},
            )

    def _on_change(self) -> None:
        if not self._change_queued:
            self._change_queued = True
            self.queue.put_nowait(_CHANGED)

    def wake_at(self, when: float) -> None:
        """Re-run :meth:`push` at ``when`` (monotonic) if nothing else happens first."""
        if self._wake_at and self._wake_at <= when:
            return
        self._wake_at = when

        def wake() -> None:
            self._wake_at = 0.0
            self.queue.put_nowait(_WAKE)

        asyncio.get_running_loop().call_later(max(0.0, when - time.monotonic()), wake)

    def started(self, requested_at: float) -> float:
        """Where publish-to-ACK of a response sent now starts: the snapshot's publish, or
        the proxy's request for the type (``requested_at``) if that came later."""
        return max(self.changed_at, requested_at)

    def sent(self, type_url: TypeUrl) -> None:
        """Count a response of ``type_url`` written to this stream."""
        self.ctx.metrics.of(type_url).pushes.inc()
        if self.proxy is not None and self.proxy.series is not None:
            self.proxy.series.sent(type_url)

    def next_nonce(self) -> str:
        self._nonce += 1
        return str(self._nonce)

    async def write(self, body: bytes) -> None:
        await self.context.write(body)

    # --- protocol hooks ---------------------------------------------------------------
    def node_of(self, request: Any) -> str:
        return str(request.node.id)

    async def on_request(self, request: Any) -> None:
        raise NotImplementedError

    async def push(self) -> None:
        raise NotImplementedError
