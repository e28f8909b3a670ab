"""The check a snapshot passes before it is published (go-control-plane's ``Consistent()``).

Every route names an existing cluster, every EDS cluster has an assignment, every listener's
RDS route configuration exists, every ``tcp_proxy`` names an existing cluster. Envoy itself
accepts a route to a missing cluster (it answers 503), so this is the only place it is caught.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from envoy.config.cluster.v3 import cluster_pb2 as envoy_cluster
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as envoy_hcm,
)
from envoy.extensions.filters.network.tcp_proxy.v3 import tcp_proxy_pb2 as envoy_tcp_proxy

from reconciler.resource_types import ProxyConfig, TypeUrl, resource_name


@dataclass(frozen=True, slots=True)
class Inconsistency:
    node_id: str
    type_url: TypeUrl
    name: str
    message: str

    def __str__(self) -> str:
        return f"{self.node_id}: {self.type_url.short} {self.name!r}: {self.message}"


def check_consistency(config: ProxyConfig) -> list[Inconsistency]:
    """Every dangling reference in ``config`` (empty when it can be published)."""
    names = {t: {resource_name(m) for m in config.of(t)} for t in TypeUrl}
    clusters = names[TypeUrl.CLUSTER]
    problems: list[Inconsistency] = []

    def report(type_url: TypeUrl, name: str, message: str) -> None:
        problems.append(Inconsistency(config.node_id, type_url, name, message))

    for cluster in config.of(TypeUrl.CLUSTER):
        if cluster.type == envoy_cluster.Cluster.EDS:
            cla = cluster.eds_cluster_config.service_name or cluster.name
            if cla not in names[TypeUrl.ENDPOINT]:
                report(TypeUrl.CLUSTER, cluster.name, f"EDS cluster has no assignment {cla!r}")
    for route_config in config.of(TypeUrl.ROUTE):
        for cluster_name in _route_clusters(route_config):
            if cluster_name not in clusters:
                report(
                    TypeUrl.ROUTE, route_config.name, f"routes to unknown cluster {cluster_name!r}"
                )
    for listener in config.of(TypeUrl.LISTENER):
        for kind, target in _listener_refs(listener):
            if kind == "rds" and target not in names[TypeUrl.ROUTE]:
                report(
                    TypeUrl.LISTENER, listener.name, f"uses unknown route configuration {target!r}"
                )
            elif kind == "cluster" and target not in clusters:
                report(TypeUrl.LISTENER, listener.name, f"forwards to unknown cluster {target!r}")
    return problems


def _route_clusters(route_config: Any) -> Iterator[str]:
    for vhost in route_config.virtual_hosts:
        for route in vhost.routes:
            if not route.HasField("route"):
                continue
            action = route.route
            if action.cluster:
                yield action.cluster
            for weighted in action.weighted_clusters.clusters:
                yield weighted.name


def _listener_refs(listener: Any) -> Iterator[tuple[str, str]]:
    chains: Iterable[Any] = list(listener.filter_chains)
    if listener.HasField("default_filter_chain"):
        chains = [*chains, listener.default_filter_chain]
    for chain in chains:
        for network_filter in chain.filters:
            typed = network_filter.typed_config
            if typed.Is(envoy_hcm.HttpConnectionManager.DESCRIPTOR):
                hcm = envoy_hcm.HttpConnectionManager()
                typed.Unpack(hcm)
                if hcm.HasField("rds"):
                    yield "rds", hcm.rds.route_config_name
                elif hcm.HasField("route_config"):
                    yield from (("cluster", c) for c in _route_clusters(hcm.route_config))
            elif typed.Is(envoy_tcp_proxy.TcpProxy.DESCRIPTOR):
                tcp = envoy_tcp_proxy.TcpProxy()
                typed.Unpack(tcp)
                if tcp.cluster:
                    yield "cluster", tcp.cluster
                for weighted in tcp.weighted_clusters.clusters:
                    yield "cluster", weighted.name
