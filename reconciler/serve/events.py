"""What the control plane tells the outside world about: the event interface of ``serve``.

The reconcile loop and the ADS streams call an :class:`EventSink` where something happens
(one call each, never awaited, never raising); :class:`NoEvents` is the default and does
nothing. ``reconciler.serve.notify.Notifier`` implements it with outgoing webhooks.

Calls are made on the event loop thread, in the middle of a reconcile or a stream: an
implementation must return at once (queue the work), whatever its receivers do.
"""

from __future__ import annotations

from typing import Any, Protocol

from reconciler.source import Revision


class OutcomeLike(Protocol):
    """What a sink reads of the loop's outcome of one revision (``serve.loop.Outcome``)."""

    @property
    def applied(self) -> bool: ...

    @property
    def changed(self) -> int: ...

    @property
    def proxies(self) -> int: ...

    @property
    def error(self) -> dict[str, Any] | None: ...


class EventSink(Protocol):
    def revision(self, revision: Revision, outcome: OutcomeLike) -> None:
        """A revision was applied (published) or refused (errors: nothing published)."""
        ...

    def proxy_nack(self, node_id: str, type_short: str, version: str, message: str) -> None:
        """A proxy rejected a version of one resource type (Envoy's error detail)."""
        ...

    def proxy_refused(self, node_id: str, problem: str, message: str) -> None:
        """An ADS stream was refused: its proxy token is missing, invalid, expired, revoked
        or another proxy's. ``node_id`` is what the stream claimed (not verified)."""
        ...


class NoEvents:
    """The sink used when no notification is configured."""

    def revision(self, revision: Revision, outcome: OutcomeLike) -> None:
        return None

    def proxy_nack(self, node_id: str, type_short: str, version: str, message: str) -> None:
        return None

    def proxy_refused(self, node_id: str, problem: str, message: str) -> None:
        return None


NO_EVENTS: EventSink = NoEvents()
