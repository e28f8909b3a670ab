"""One ADS stream: what State-of-the-World and Delta share.

A stream's events are the proxy's requests, a marker when the proxy's snapshot changes (from
the cache's watch) and a marker when a timer is due; they are handled one at a time, in the
order they arrived, on the event loop, without locks. The task gRPC runs the stream in reads
the requests and handles each in place; a change or a timer that arrives while that task waits
for the next request starts a short-lived task that handles it (and whatever arrives while it
runs) and ends. So an idle stream costs one task, its gRPC call and this object; no queue, no
second task. After each event the protocol's :meth:`AdsStream.push` sends what is due, in
make-before-break order: clusters and endpoints first; listeners and routes only once the
clusters and endpoints in flight are ACKed (or :data:`GATE_TIMEOUT` passed); cluster removals
only once listeners and routes have settled.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

import grpc
from grpc.aio import EOF

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

T = TypeVar("T")

_CHANGED = object()
_WAKE = object()


class Names(frozenset[str]):
    """A subscription's names, as :class:`SharedNames` hands them out (its own object, distinct
    from the equal set it is found by)."""

    __slots__ = ()


class SharedNames:
    """One set object per distinct subscription, shared by the streams that hold it.

    A thousand proxies subscribing to the same endpoint names would otherwise each hold their
    own set of their own strings (several KB per stream). Held weakly: a set no stream holds
    any more is forgotten, so this never holds more than the streams do.
    """

    __slots__ = ("_sets",)

    def __init__(self) -> None:
        self._sets: weakref.WeakValueDictionary[frozenset[str], Names] = (
            weakref.WeakValueDictionary()
        )

    def __len__(self) -> int:
        return len(self._sets)

    @overload
    def shared(self, names: frozenset[str]) -> Names: ...
    @overload
    def shared(self, names: None) -> None: ...
    def shared(self, names: frozenset[str] | None) -> Names | None:
        if names is None:
            return None
        found = self._sets.get(names)
        if found is None:
            # the key is the caller's set (held while the value lives), the value another
            # object: one held weakly, so it goes once no stream holds it
            found = self._sets[names] = Names(names)
        return found


class SharedMemo:
    """Values the streams share, built once per key and held weakly: a value no stream holds
    any more is forgotten (the values must be weakly referable)."""

    __slots__ = ("_values",)

    def __init__(self) -> None:
        self._values: weakref.WeakValueDictionary[Hashable, Any] = weakref.WeakValueDictionary()

    def __len__(self) -> int:
        return len(self._values)

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        found: T | None = self._values.get(key)
        if found is None:
            found = make()
            self._values[key] = found
        return found


@dataclass(frozen=True, slots=True)
class ServerContext:
    cache: SnapshotCache
    registry: ProxyRegistry
    metrics: Metrics
    verifier: Any = None
    """A ``reconciler.identity.verifier.TokenVerifier``: when set, a stream gets nothing
    until the ``authorization`` metadata proves its node id."""
    subscriptions: SharedNames = field(default_factory=SharedNames)
    memo: SharedMemo = field(default_factory=SharedMemo)


class AdsStream:
    __slots__ = (
        "_admitted",
        "_busy",
        "_change_queued",
        "_claims",
        "_failure",
        "_handler",
        "_helper",
        "_inbox",
        "_nonce",
        "_timer",
        "_unwatch",
        "_wake_at",
        "changed_at",
        "context",
        "ctx",
        "node_id",
        "proxy",
        "snapshot",
    )
    protocol = ""

    def __init__(self, ctx: ServerContext, context: Any) -> None:
        self.ctx = ctx
        self.context = context
        self.node_id = ""
        self.proxy: ProxyState | None = None
        self.snapshot: Snapshot | None = None
        self._unwatch: Any = None
        self._inbox: list[object] | None = None
        """Events waiting while another is handled (None when there are none)."""
        self._change_queued = False
        self._busy = False
        """An event is being handled (by the gRPC task or a helper task)."""
        self._helper: asyncio.Task[None] | None = None
        self._handler: asyncio.Task[Any] | None = None
        self._failure: BaseException | None = None
        self._wake_at = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._nonce = 0
        self._claims: Any = None
        """The verified proxy token of this stream (when the server checks tokens)."""
        self._admitted = False
        self.changed_at = 0.0
        """When this stream's snapshot last changed (monotonic): the publish time, or the
        attach time for the snapshot it found; publish-to-ACK is measured from here (or from
        the request for a type, if later)."""

    async def run(self) -> None:
        """Serve the stream until the proxy closes it (in the task gRPC runs the call in)."""
        self._handler = asyncio.current_task()
        try:
            await self._serve()
        except asyncio.CancelledError:
            if self._failure is None:
                raise
        finally:
            if self._helper is not None:
                self._helper.cancel()
            if self._timer is not None:
                self._timer.cancel()  # nothing refers to a closed stream
            self._detach()
        if self._failure is not None:
            raise self._failure  # a helper's error ends the stream as if raised here

    async def _serve(self) -> None:
        # ``context.read`` rather than the request iterator: no async generator per stream;
        # the request lives in ``_receive``'s frame only, not while the next one is awaited
        read = self.context.read
        try:
            while await self._receive(await read()):
                pass
        except grpc.RpcError:
            pass
        if self._helper is not None:
            await self._helper  # the proxy closed its side: finish what arrived before

    async def _receive(self, request: Any) -> bool:
        """Handle one request (or queue it behind the event being handled); False at the end."""
        if request is EOF or self._failure is not None:
            return False
        if self._busy:
            self._post(request)  # the running helper handles it, in order
            return True
        self._busy = True
        try:
            await self._handle(request)
            await self._drain()
        finally:
            self._busy = False
        return True

    def _post(self, item: object) -> None:
        """Queue an event; start a helper task to handle it unless one is being handled."""
        if self._inbox is None:
            self._inbox = [item]
        else:
            self._inbox.append(item)
        if not self._busy:
            self._busy = True
            self._helper = asyncio.get_running_loop().create_task(self._help())

    async def _help(self) -> None:
        try:
            await self._drain()
        except Exception as exc:
            # end the stream from its own task, as an error raised there would
            self._failure = exc
            if self._handler is not None:
                self._handler.cancel()
        finally:
            self._busy = False
            self._helper = None

    async def _drain(self) -> None:
        while self._inbox:
            item = self._inbox.pop(0)
            if not self._inbox:
                self._inbox = None
            await self._handle(item)

    async def _handle(self, item: object) -> None:
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
            self._post(_CHANGED)

    def wake_at(self, when: float) -> None:
        """Re-run :meth:`push` at ``when`` (monotonic) if nothing else happens first."""
        if self._wake_at and self._wake_at <= when:
            return
        self._wake_at = when
        if self._timer is not None:
            # the later wake it replaces is due again, if still needed, after this one: an
            # event re-schedules the token check and the gates re-schedule themselves
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(
            max(0.0, when - time.monotonic()), self._wake
        )

    def _wake(self) -> None:
        self._wake_at = 0.0
        self._timer = None
        self._post(_WAKE)

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
