"""Per-proxy delivery series: publish-to-ACK time and NACKs by proxy and xDS type.

The labels are ``mesh``, ``proxy`` (the node id) and ``type`` (CDS, EDS, LDS, RDS, SDS), so
an operator can write an SLO per mesh or per proxy ("99 % of LDS updates ACKed within 5 s").

Contract:

* cost per ACK or NACK is one dict lookup and one ``observe``/``inc`` on a child looked up
  when the type was first sent to the proxy (``labels()`` takes a lock and builds a key: too
  slow for every ACK of a thousand proxies);
* cardinality is bounded by the proxies connected now: :meth:`ProxySeries.drop` removes
  every series of a proxy once its last stream is gone, so a fleet that churns does not grow
  the registry (a reconnecting proxy starts its histogram and counter again from zero, which
  ``rate()`` and ``increase()`` read as a counter reset).
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from reconciler.resource_types import TypeUrl

ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
"""Seconds; an Envoy that needs longer than 120 s to ACK lands in ``+Inf``."""

_LABELS = ("mesh", "proxy", "type")


class ProxyFamilies:
    """The two labelled families, in the server's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.ack_seconds = Histogram(
            "reconciler_xds_publish_to_ack_seconds",
            "from the publish of a proxy's new configuration (or its request, if later) to "
            "its ACK, per proxy and type",
            _LABELS,
            buckets=ACK_BUCKETS,
            registry=registry,
        )
        self.nacks = Counter(
            "reconciler_xds_proxy_nacks",
            "xDS responses NACKed, per proxy and type",
            _LABELS,
            registry=registry,
        )

    def series(self, node_id: str) -> ProxySeries:
        return ProxySeries(self, node_id)


class _TypeChildren:
    __slots__ = ("ack", "nacks")

    def __init__(self, ack: Any, nacks: Any) -> None:
        self.ack = ack
        self.nacks = nacks


class ProxySeries:
    """One proxy's children, created per type at its first response (only the types the
    proxy uses get series)."""

    __slots__ = ("_families", "_mesh", "_node_id", "_types")

    def __init__(self, families: ProxyFamilies, node_id: str) -> None:
        self._families = families
        self._node_id = node_id
        self._mesh = node_id.partition(".")[0]
        self._types: dict[TypeUrl, _TypeChildren] = {}

    def _of(self, type_url: TypeUrl) -> _TypeChildren:
        found = self._types.get(type_url)
        if found is None:
            key = (self._mesh, self._node_id, type_url.short)
            found = self._types[type_url] = _TypeChildren(
                self._families.ack_seconds.labels(*key), self._families.nacks.labels(*key)
            )
        return found

    def sent(self, type_url: TypeUrl) -> None:
        """A response of this type left: its series exist from now on (a NACK counter that
        appears only at the first NACK would hide that NACK from ``increase()``)."""
        if type_url not in self._types:
            self._of(type_url)

    def acked(self, type_url: TypeUrl, seconds: float) -> None:
        self._of(type_url).ack.observe(seconds)

    def nacked(self, type_url: TypeUrl) -> None:
        self._of(type_url).nacks.inc()

    def drop(self) -> None:
        """Remove every series of this proxy from the registry."""
        for type_url in self._types:
            key = (self._mesh, self._node_id, type_url.short)
            self._families.ack_seconds.remove(*key)
            self._families.nacks.remove(*key)
        self._types.clear()
