"""Prometheus metrics of one server, in its own registry (never the process-global one)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from reconciler.resource_types import TypeUrl
from reconciler.serve.proxy_metrics import ACK_BUCKETS, ProxyFamilies, ProxySeries
from reconciler.serve.revision_metrics import RevisionMetrics

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True, slots=True)
class TypeMetrics:
    """The per-type children, looked up once (``labels()`` is too slow for every ACK)."""

    pushes: Any
    acks: Any
    nacks: Any
    push_seconds: Any


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.pushes = Counter("reconciler_xds_pushes", "xDS responses sent", ["type"], registry=r)
        self.acks = Counter("reconciler_xds_acks", "xDS responses ACKed", ["type"], registry=r)
        self.nacks = Counter("reconciler_xds_nacks", "xDS responses NACKed", ["type"], registry=r)
        self.connected = Gauge(
            "reconciler_xds_connected_proxies", "ADS streams open now", ["protocol"], registry=r
        )
        self.unknown_nodes = Counter(
            "reconciler_xds_unknown_node_streams",
            "ADS streams from a node id that names no Dataplane",
            registry=r,
        )
        self.compile_seconds = Histogram(
            "reconciler_compile_duration_seconds",
            "generation of one revision: load, validate, compile and snapshot (every attempt)",
            buckets=ACK_BUCKETS,
            registry=r,
        )
        self.push_seconds = Histogram(
            "reconciler_xds_push_duration_seconds",
            "from a response written to its ACK or NACK",
            ["type"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.reconciles = Counter(
            "reconciler_reconciles", "revisions attempted", ["result"], registry=r
        )

        self.proxies = ProxyFamilies()
        self.revision = RevisionMetrics(r)

        self.types = {
            t: TypeMetrics(
                self.pushes.labels(t.short),
                self.acks.labels(t.short),
                self.nacks.labels(t.short),
                self.push_seconds.labels(t.short),
            )
            for t in TypeUrl
        }

    def of(self, type_url: TypeUrl) -> TypeMetrics:
        return self.types[type_url]

    def proxy_series(self, node_id: str) -> ProxySeries:
        """The per-proxy series of ``node_id`` (drop them when its last stream ends)."""
        return self.proxies.series(node_id)

    def render(self) -> bytes:
        return generate_latest(self.registry) + self.proxies.render().encode()


class SourceMetrics:
    """The reconcile loop's source and journal series, in the server's registry."""

    def __init__(self, metrics: Metrics) -> None:
        r = metrics.registry
        self.last_success = Gauge(
            "reconciler_source_last_success_timestamp_seconds",
            "Unix time the source was last fetched successfully (staleness = now - this)",
            registry=r,
        )
        self.last_applied = Gauge(
            "reconciler_source_last_applied_timestamp_seconds",
            "Unix time a revision was last applied",
            registry=r,
        )
        self.errors = Counter(
            "reconciler_source_errors", "failed fetches by reason", ["reason"], registry=r
        )
        self.pinned = Gauge(
            "reconciler_source_pinned",
            "1 while a rollback or pause (local or fleet-wide) holds the served revision",
            registry=r,
        )
        self.drifted = Gauge(
            "reconciler_proxies_drifted",
            "connected proxies whose ACKed configuration is not the current snapshot",
            registry=r,
        )
        self.webhooks = Counter(
            "reconciler_webhook_requests", "POST /hooks/github by outcome", ["outcome"], registry=r
        )
