"""Incremental ADS (``DeltaAggregatedResources``).

Per type on one stream: the subscription (names and/or wildcard) and what the proxy has
(``name -> digest``, seeded from ``initial_resource_versions`` on reconnect), plus the
responses not yet answered. A push sends only resources whose digest the proxy lacks and
removes the ones it has that are gone, so a reconnect with identical content sends nothing.
Rules beyond the protocol:

* every changed EDS cluster gets its ClusterLoadAssignment pushed with it, changed or not
  (Envoy warms a changed cluster until endpoints arrive, and in Delta it never asks again);
* a NACKed version is not sent again (the digests it carried count as sent);
* cluster removals wait until listeners and routes have settled.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.resource_types import TypeUrl
from reconciler.serve.stream import GATE_TIMEOUT, TYPE_URLS, AdsStream
from reconciler.snapshot import Encoded, TypeSnapshot, wire

_WILDCARD_TYPES = (TypeUrl.LISTENER, TypeUrl.CLUSTER)
_ORDER = (TypeUrl.CLUSTER, TypeUrl.ENDPOINT, TypeUrl.SECRET, TypeUrl.LISTENER, TypeUrl.ROUTE)
_MAX_PENDING = 64
_ALL = frozenset({"*"})


@dataclass(slots=True)
class DeltaType:
    wildcard: bool = False
    names: frozenset[str] = frozenset()
    """Subscribed names (besides the wildcard): one set object shared by the streams with the
    same subscription (``SharedNames``), replaced, never changed in place."""
    known: Mapping[str, str] = field(default_factory=dict)
    """What the proxy has: name -> digest ("" forces a resend). Once a response carried the
    whole difference, the mapping the streams holding the same resources share (see
    :meth:`DeltaStream._share_known`); copied before it changes (:meth:`own_known`)."""
    known_shared: bool = False
    pending: dict[str, tuple[str, float, float]] = field(default_factory=dict)
    """Unanswered responses: nonce -> (version, sent at, publish-to-ACK start)."""
    requested_at: float = 0.0
    """The proxy's last request that made a response due (first request, new names)."""
    nacked: str = ""
    synced: str = ""
    """Content hash the proxy is known to hold in full (skips the diff); "" when unsure."""

    def own_known(self) -> dict[str, str]:
        """``known``, made this stream's own before it changes."""
        if self.known_shared or not isinstance(self.known, dict):
            self.known = dict(self.known)
            self.known_shared = False
        return self.known


class DeltaStream(AdsStream):
    __slots__ = ("types",)
    protocol = "delta"

    def __init__(self, ctx: Any, context: Any) -> None:
        super().__init__(ctx, context)
        self.types: dict[TypeUrl, DeltaType] = {}

    async def on_request(self, request: Any) -> None:
        type_url = TYPE_URLS.get(request.type_url)
        if type_url is None:
            return
        state = self.types.get(type_url)
        if state is None:
            state = self.types[type_url] = DeltaType(requested_at=time.monotonic())
            state.wildcard = type_url in _WILDCARD_TYPES and not request.resource_names_subscribe
            state.known = dict(request.initial_resource_versions)
        if request.resource_names_subscribe or request.resource_names_unsubscribe:
            state.synced = ""
            state.requested_at = time.monotonic()
        if request.resource_names_subscribe:
            added = frozenset(request.resource_names_subscribe)
            if "*" in added:
                state.wildcard = True
                added = added - _ALL
            if not added <= state.names:
                state.names = self.ctx.subscriptions.shared(state.names | added)
        if request.resource_names_unsubscribe:
            dropped = frozenset(request.resource_names_unsubscribe)
            if "*" in dropped:
                state.wildcard = False
                dropped = dropped - _ALL
            for name in dropped:
                if name in state.known:
                    state.own_known().pop(name)
            if dropped & state.names:
                state.names = self.ctx.subscriptions.shared(state.names - dropped)
        if request.response_nonce:
            sent = state.pending.pop(request.response_nonce, None)
            if sent is not None:
                version, sent_at, started = sent
                now = time.monotonic()
                self.ctx.metrics.of(type_url).push_seconds.observe(now - sent_at)
                assert self.proxy is not None
                if request.HasField("error_detail"):
                    state.nacked = version
                    self.proxy.record_nack(type_url, version, request.error_detail.message)
                    self.ctx.metrics.of(type_url).nacks.inc()
                else:
                    self.proxy.record_ack(type_url, version, now - started)
                    self.ctx.metrics.of(type_url).acks.inc()
        elif request.initial_resource_versions and self.snapshot is not None:
            snap = self.snapshot.get(type_url)
            # a reconnect that already has everything: nothing to send, count it as ACKed
            if (
                snap is not None
                and self.proxy is not None
                and not any(self._diff(type_url, state, snap))
            ):
                self.proxy.of(type_url).sent = snap.version
                self.proxy.record_ack(type_url, snap.version)

    def _diff(
        self, type_url: TypeUrl, state: DeltaType, snap: TypeSnapshot
    ) -> tuple[list[Encoded], list[str]]:
        if state.synced == snap.content:
            return [], []
        known = state.known
        resources = snap.resources
        if state.wildcard:
            changed = [r for n, r in resources.items() if known.get(n) != r.digest]
        else:
            names = state.names
            changed = [r for n, r in resources.items() if n in names and known.get(n) != r.digest]
        removed = [n for n in known if n not in resources]
        if not changed and not removed:
            state.synced = snap.content
            self._share_known(type_url, state, snap)
        return changed, removed

    def _blocked(self, *types: TypeUrl) -> bool:
        now = time.monotonic()
        for type_url in types:
            state = self.types.get(type_url)
            if state is None:
                continue
            for _version, sent_at, _started in state.pending.values():
                if now - sent_at < GATE_TIMEOUT:
                    self.wake_at(sent_at + GATE_TIMEOUT)
                    return True
        return False

    def _unsettled(self, *types: TypeUrl) -> bool:
        assert self.snapshot is not None
        for type_url in types:
            state = self.types.get(type_url)
            snap = self.snapshot.get(type_url)
            if state is None or snap is None:
                continue
            if state.pending or (
                snap.version != state.nacked and any(self._diff(type_url, state, snap))
            ):
                return True
        return False

    async def push(self) -> None:
        assert self.snapshot is not None
        for type_url in _ORDER:
            state = self.types.get(type_url)
            snap = self.snapshot.get(type_url)
            if state is None or snap is None or snap.version == state.nacked:
                continue
            changed, removed = self._diff(type_url, state, snap)
            if not changed and not removed:
                continue
            if type_url in (TypeUrl.LISTENER, TypeUrl.ROUTE) and self._blocked(
                TypeUrl.CLUSTER, TypeUrl.ENDPOINT
            ):
                continue
            complete = True
            if (
                type_url == TypeUrl.CLUSTER
                and removed
                and self._unsettled(TypeUrl.LISTENER, TypeUrl.ROUTE)
            ):
                removed, complete = [], False
            if not changed and not removed:
                continue
            await self._send(type_url, state, snap, changed, removed)
            if complete:
                state.synced = snap.content  # the response carried the whole difference
                self._share_known(type_url, state, snap)
            if type_url == TypeUrl.CLUSTER:
                self._refresh_endpoints(changed)

    def _share_known(self, type_url: TypeUrl, state: DeltaType, snap: TypeSnapshot) -> None:
        """Hold the digests every stream synced to ``snap`` with this subscription holds, one
        mapping for them all, instead of a copy each (when ``known`` is exactly that)."""
        names = None if state.wildcard else state.names
        shared = self.ctx.memo.get(
            ("delta-known", type_url, snap.content, names), lambda: _digests(snap, names)
        )
        if shared is not state.known and shared == state.known:
            state.known = shared
            state.known_shared = True

    def _refresh_endpoints(self, clusters: list[Encoded]) -> None:
        endpoints = self.types.get(TypeUrl.ENDPOINT)
        if endpoints is None or self.snapshot is None:
            return
        for cluster in clusters:
            cla = self.snapshot.eds_names.get(cluster.name)
            if cla is not None and cla in endpoints.known:
                endpoints.own_known()[cla] = ""
                endpoints.synced = ""

    async def _send(
        self,
        type_url: TypeUrl,
        state: DeltaType,
        snap: TypeSnapshot,
        changed: list[Encoded],
        removed: list[str],
    ) -> None:
        body = wire.delta_body(
            snap.version, str(type_url), (r.delta_field for r in changed), sorted(removed)
        )
        nonce = self.next_nonce()
        await self.write(body + wire.nonce_suffix(nonce, delta=True))
        known = state.own_known()
        for res in changed:
            known[res.name] = res.digest
        for name in removed:
            known.pop(name, None)
        state.synced = ""
        state.pending[nonce] = (snap.version, time.monotonic(), self.started(state.requested_at))
        if len(state.pending) > _MAX_PENDING:
            state.pending.pop(next(iter(state.pending)))
        assert self.proxy is not None
        self.proxy.of(type_url).sent = snap.version
        self.sent(type_url)

    def node_of(self, request: Any) -> str:
        return str(request.node.id)


class Digests(dict[str, str]):
    """name -> digest, weakly referable (shared through ``SharedMemo``)."""

    __slots__ = ("__weakref__",)


def _digests(snap: TypeSnapshot, names: frozenset[str] | None) -> Digests:
    """name -> digest of the resources of ``snap`` a subscription (None: wildcard) receives."""
    if names is None:
        return Digests((n, r.digest) for n, r in snap.resources.items())
    return Digests((n, r.digest) for n, r in snap.resources.items() if n in names)
