"""State-of-the-World ADS (``StreamAggregatedResources``).

Per type on one stream: the subscription (names, or wildcard), the last response's nonce and
version, whether it is still unanswered, and the version the proxy NACKed. Rules:

* a request with the nonce of the last response is an ACK (or a NACK if it has
  ``error_detail``); one with an older nonce is stale and ignored;
* a second request for an already-ACKed nonce is a re-request and is answered (Envoy sends it
  when a changed cluster warms and needs its endpoints again);
* a first request whose ``version_info`` equals the current version (a reconnect) gets no
  response: the proxy already has it, so a restarted server pushes nothing;
* a NACKed version is never sent again; the next different version is;
* removed clusters stay in the cluster set until listeners and routes have settled.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.resource_types import TypeUrl
from reconciler.serve.stream import GATE_TIMEOUT, TYPE_URLS, AdsStream
from reconciler.snapshot import Encoded, TypeSnapshot, content_hash, wire

_WILDCARD_TYPES = (TypeUrl.LISTENER, TypeUrl.CLUSTER)
_ORDER = (TypeUrl.CLUSTER, TypeUrl.ENDPOINT, TypeUrl.SECRET, TypeUrl.LISTENER, TypeUrl.ROUTE)


@dataclass(slots=True)
class SotwType:
    names: frozenset[str] | None = None
    """Subscribed names; None is the wildcard."""
    nonce: str = ""
    version: str = ""
    content: str = ""
    outstanding: bool = False
    sent_at: float = 0.0
    requested_at: float = 0.0
    """The proxy's last request that made a response due (first request, new names)."""
    started: float = 0.0
    """Where publish-to-ACK of the outstanding response starts (``AdsStream.started``)."""
    nacked: str = ""
    force: bool = False
    sent: Mapping[str, Encoded] = field(default_factory=dict)
    """What the last response carried (clusters, for deferred removals): the snapshot's own
    mapping (or the merged one sent while removals wait), never a copy per stream."""


class SotwStream(AdsStream):
    __slots__ = ("types",)
    protocol = "sotw"

    def __init__(self, ctx: Any, context: Any) -> None:
        super().__init__(ctx, context)
        self.types: dict[TypeUrl, SotwType] = {}

    async def on_request(self, request: Any) -> None:
        type_url = TYPE_URLS.get(request.type_url)
        if type_url is None:
            return  # a type this server does not serve: no response, as the protocol allows
        names = self.ctx.subscriptions.shared(_subscription(type_url, request.resource_names))
        state = self.types.get(type_url)
        if state is None or not request.response_nonce:
            state = self.types[type_url] = SotwType(names=names, requested_at=time.monotonic())
            if request.version_info and request.version_info == self._current(type_url):
                # a reconnect with what we would send: nothing to push
                state.version = request.version_info
                snap = self.snapshot.get(type_url) if self.snapshot is not None else None
                if snap is not None:
                    state.content = snap.content
                    if type_url == TypeUrl.CLUSTER:
                        state.sent = snap.resources  # what it holds, for later removals
                self._versions(type_url).sent = request.version_info
                assert self.proxy is not None
                self.proxy.record_ack(type_url, request.version_info)
            else:
                state.force = True
            return
        if request.response_nonce != state.nonce:
            return  # stale: an answer to a response that was superseded
        if request.HasField("error_detail"):
            if state.outstanding:
                self._settle(type_url, state)
                state.nacked = state.version
                assert self.proxy is not None
                self.proxy.record_nack(type_url, state.version, request.error_detail.message)
                self.ctx.metrics.of(type_url).nacks.inc()
        elif state.outstanding:
            now = self._settle(type_url, state)
            assert self.proxy is not None
            self.proxy.record_ack(type_url, state.version, now - state.started)
            self.ctx.metrics.of(type_url).acks.inc()
        else:
            state.force = True  # re-request of an ACKed nonce
            state.requested_at = time.monotonic()
        if names != state.names:
            state.names = names
            state.force = True
            state.requested_at = time.monotonic()

    def _settle(self, type_url: TypeUrl, state: SotwType) -> float:
        """The response was answered; returns now (monotonic)."""
        state.outstanding = False
        now = time.monotonic()
        self.ctx.metrics.of(type_url).push_seconds.observe(now - state.sent_at)
        return now

    def _current(self, type_url: TypeUrl) -> str:
        return self.snapshot.version(type_url) if self.snapshot is not None else ""

    def _versions(self, type_url: TypeUrl) -> Any:
        assert self.proxy is not None
        return self.proxy.of(type_url)

    def _blocked(self, *types: TypeUrl) -> bool:
        now = time.monotonic()
        for type_url in types:
            state = self.types.get(type_url)
            if state is not None and state.outstanding and now - state.sent_at < GATE_TIMEOUT:
                self.wake_at(state.sent_at + GATE_TIMEOUT)
                return True
        return False

    def _unsettled(self, *types: TypeUrl) -> bool:
        for type_url in types:
            state = self.types.get(type_url)
            if state is None:
                continue
            current = self._current(type_url)
            if state.outstanding or (state.version != current and current != state.nacked):
                return True
        return False

    async def push(self) -> None:
        assert self.snapshot is not None
        for type_url in _ORDER:
            state = self.types.get(type_url)
            snap = self.snapshot.get(type_url)
            if state is None or snap is None:
                continue
            if type_url == TypeUrl.CLUSTER:
                snap = self._with_retained(state, snap)
            if snap.version == state.version and not state.force:
                continue
            if snap.version == state.nacked and not state.force:
                continue
            if type_url in (TypeUrl.LISTENER, TypeUrl.ROUTE) and self._blocked(
                TypeUrl.CLUSTER, TypeUrl.ENDPOINT
            ):
                continue
            await self._send(type_url, state, snap)

    def _with_retained(self, state: SotwType, snap: TypeSnapshot) -> TypeSnapshot:
        """Keep clusters that are going away while listeners and routes still move."""
        if state.sent is snap.resources or state.sent.keys() <= snap.resources.keys():
            return snap  # nothing is going away
        retained = {n: r for n, r in state.sent.items() if n not in snap.resources}
        if not retained or not self._unsettled(TypeUrl.LISTENER, TypeUrl.ROUTE):
            return snap
        merged = {**retained, **snap.resources}
        content = content_hash(merged.values())
        if content == state.content:  # the proxy already has exactly this set
            return TypeSnapshot(state.version, content, merged)
        return TypeSnapshot(f"{snap.version}+{content[:8]}", content, merged)

    async def _send(self, type_url: TypeUrl, state: SotwType, snap: TypeSnapshot) -> None:
        body = self.ctx.cache.responses.sotw_body(type_url, snap, state.names)
        nonce = self.next_nonce()
        await self.write(body + wire.nonce_suffix(nonce))
        state.nonce = nonce
        state.version = snap.version
        state.content = snap.content
        state.outstanding = True
        state.force = False
        state.sent_at = time.monotonic()
        state.started = self.started(state.requested_at)
        if type_url == TypeUrl.CLUSTER:
            state.sent = snap.resources
        self._versions(type_url).sent = snap.version
        self.sent(type_url)


def _subscription(type_url: TypeUrl, names: Any) -> frozenset[str] | None:
    found = frozenset(names)
    if "*" in found or (not found and type_url in _WILDCARD_TYPES):
        return None
    return found
