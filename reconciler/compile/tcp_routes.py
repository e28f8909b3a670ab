"""MeshTCPRoute: weighted TCP backends of an outbound.

Kuma 2.14: ``to[].rules[0].default.backendRefs`` of the applicable entries merge like any
conf (arrays replaced whole, so the most specific policy's backends win). For an HTTP
service a MeshHTTPRoute takes precedence; a MeshTCPRoute alone sends the HTTP traffic to its
backends with no matching (Kuma docs "MeshTCPRoute", interaction with MeshHTTPRoute).
"""

from __future__ import annotations

from typing import Any

from envoy.extensions.filters.network.tcp_proxy.v3 import tcp_proxy_pb2 as envoy_tcp

from reconciler.compile.http_routes import Backend, Resolve, backend_of
from reconciler.compile.merge import Merged


def backends(conf: Merged | None, service: str, resolve: Resolve) -> list[tuple[Backend, int]]:
    """Weighted backends (weight > 0); the service itself when no route applies."""
    refs: Any = conf.get("backendRefs") if conf is not None else None
    if not isinstance(refs, list) or not refs:
        return [(Backend(service, ()), 1)]
    out: list[tuple[Backend, int]] = []
    for ref in refs:
        if not isinstance(ref, dict):
            continue
        backend = backend_of(ref, service, resolve)
        weight = ref.get("weight", 1)
        if backend is not None and isinstance(weight, int) and weight > 0:
            out.append((backend, weight))
    return out


def configure_tcp_proxy(tcp: envoy_tcp.TcpProxy, weighted: list[tuple[Backend, int]]) -> None:
    if len(weighted) == 1:
        tcp.cluster = weighted[0][0].cluster
        return
    for backend, weight in weighted:
        tcp.weighted_clusters.clusters.add(name=backend.cluster, weight=weight)
