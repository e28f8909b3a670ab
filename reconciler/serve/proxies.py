"""What each proxy was sent, ACKed and NACKed: the per-proxy half of ``/status``.

One :class:`ProxyState` per node id, shared by all its streams (a proxy may reconnect before
its old stream is gone). The ADS streams write it; the HTTP side reads it, and
:func:`add_served_versions` puts beside it what the served revision holds for the proxy and
which commits introduced those versions.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reconciler import codes
from reconciler.resource_types import PUSH_ORDER, TypeUrl
from reconciler.serve.events import NO_EVENTS, EventSink
from reconciler.serve.proxy_metrics import ProxySeries
from reconciler.snapshot import SnapshotCache

log = logging.getLogger("reconciler.serve")

UNKNOWN_NODE_MESSAGE = (
    "node id {node!r} names no Dataplane in the served revision (expected '<mesh>.<dataplane "
    "name>'); the proxy gets no configuration until a Dataplane with that name exists"
)


@dataclass(slots=True)
class TypeVersions:
    sent: str = ""
    acked: str = ""
    nacked: str = ""


@dataclass(slots=True)
class ProxyState:
    node_id: str
    streams: int = 0
    protocol: str = ""
    versions: dict[TypeUrl, TypeVersions] = field(default_factory=dict)
    last_nack: dict[str, Any] | None = None
    error: str | None = None
    peer: str = ""
    on_ack: Callable[[ProxyState, TypeUrl], None] | None = None
    events: EventSink = NO_EVENTS
    series: ProxySeries | None = None
    """Its Prometheus series while a stream is open (``AdsStream`` creates and drops them)."""

    def record_ack(self, type_url: TypeUrl, version: str, seconds: float | None = None) -> None:
        """``seconds``: publish to this ACK (None for a reconnect that already had it)."""
        self.of(type_url).acked = version
        if seconds is not None and self.series is not None:
            self.series.acked(type_url, seconds)
        if self.on_ack is not None:
            self.on_ack(self, type_url)

    auth_error: dict[str, Any] | None = None
    """The last refused stream (proxy token missing, invalid, expired, revoked, another's)."""

    def of(self, type_url: TypeUrl) -> TypeVersions:
        found = self.versions.get(type_url)
        if found is None:
            found = self.versions[type_url] = TypeVersions()
        return found

    def record_nack(self, type_url: TypeUrl, version: str, message: str) -> None:
        self.of(type_url).nacked = version
        if self.series is not None:
            self.series.nacked(type_url)
        self.last_nack = {
            "type": type_url.short,
            "version": version,
            "message": message,
            "time": time.time(),
        }
        log.warning(
            "error[%s] %s NACKed %s version %s: %s",
            codes.PROXY_NACK,
            self.node_id,
            type_url.short,
            version,
            message.strip().splitlines()[-1] if message.strip() else "",
            extra={
                "code": codes.PROXY_NACK,
                "proxy": self.node_id,
                "type": type_url.short,
                "version": version,
                "detail": message,
            },
        )
        self.events.proxy_nack(self.node_id, type_url.short, version, message)

    def refuse(self, problem: str, message: str) -> None:
        self.auth_error = {
            "code": codes.PROXY_TOKEN_REJECTED,
            "problem": problem,
            "message": message,
            "time": time.time(),
        }
        log.warning(
            "error[%s] stream of %s refused: %s",
            codes.PROXY_TOKEN_REJECTED,
            self.node_id,
            message,
            extra={"code": codes.PROXY_TOKEN_REJECTED, "proxy": self.node_id, "problem": problem},
        )
        self.events.proxy_refused(self.node_id, problem, message)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.node_id,
            "connected": self.streams > 0,
            "streams": self.streams,
            "protocol": self.protocol or None,
            "peer": self.peer or None,
            "versions": {
                t.short: {"sent": v.sent, "acked": v.acked, "nacked": v.nacked}
                for t in PUSH_ORDER
                if (v := self.versions.get(t)) is not None
            },
            "lastNack": self.last_nack,
            "error": self.error,
            "authError": self.auth_error,
        }


class ProxyRegistry:
    def __init__(self, events: EventSink = NO_EVENTS) -> None:
        self._proxies: dict[str, ProxyState] = {}
        self.events = events
        """Told about every proxy's NACKs and refused streams."""
        self.on_ack: Callable[[ProxyState, TypeUrl], None] | None = None
        """Called after every ACK (benchmarks and tests wait on it instead of polling)."""

    def get(self, node_id: str) -> ProxyState:
        found = self._proxies.get(node_id)
        if found is None:
            found = self._proxies[node_id] = ProxyState(
                node_id, on_ack=self.on_ack, events=self.events
            )
        return found

    def find(self, node_id: str) -> ProxyState | None:
        return self._proxies.get(node_id)

    def release(self, state: ProxyState) -> None:
        """Forget a disconnected proxy that never received anything (an unknown node id)."""
        if state.streams == 0 and not state.versions:
            self._proxies.pop(state.node_id, None)

    def connected(self) -> list[ProxyState]:
        return [p for p in self._proxies.values() if p.streams > 0]

    def mark_unknown(self, state: ProxyState) -> None:
        state.error = UNKNOWN_NODE_MESSAGE.format(node=state.node_id)
        log.warning("error[%s] %s", codes.UNKNOWN_NODE, state.error)

    def to_json(self, served: list[str]) -> list[dict[str, Any]]:
        """Every proxy that connected or that the current revision serves, sorted by id."""
        for node_id in served:
            self.get(node_id)
        served_set = set(served)
        out = []
        for node_id in sorted(self._proxies):
            state = self._proxies[node_id]
            if (
                state.streams == 0
                and node_id not in served_set
                and not state.versions
                and state.auth_error is None
            ):
                continue
            if node_id in served_set:
                state.error = None
            out.append(state.to_json())
        return out


def add_served_versions(
    entries: list[dict[str, Any]],
    cache: SnapshotCache,
    introduced_by: Callable[[str], str | None],
) -> None:
    """Complete each ``/status`` proxy entry with what the served revision holds for it and
    where those versions came from: ``served`` (per type with resources: ``version`` and
    ``commit``, the commit that introduced it) and, beside each type's sent/ACKed/NACKed
    versions, ``ackedCommit``. Versions are content hashes: commits come from the journal
    (``introduced_by``), never from the version itself; None when it has no record."""
    for entry in entries:
        snap = cache.get(entry["id"])
        served: dict[str, dict[str, str | None]] = {}
        for type_url in PUSH_ORDER:
            found = snap.get(type_url) if snap is not None else None
            if found is not None and found.resources:
                served[type_url.short] = {
                    "version": found.version,
                    "commit": introduced_by(found.version),
                }
        entry["served"] = served
        for versions in entry["versions"].values():
            acked = versions["acked"]
            versions["ackedCommit"] = introduced_by(acked) if acked else None
