"""Hand-built proxy configurations: real Envoy protos, the same shape the compiler produces.

Used as input by the integration and end-to-end tests and by ``bench/xds.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from envoy.config.cluster.v3 import cluster_pb2 as envoy_cluster
from envoy.config.core.v3 import address_pb2 as envoy_address
from envoy.config.core.v3 import config_source_pb2 as envoy_config_source
from envoy.config.endpoint.v3 import endpoint_pb2 as envoy_endpoint
from envoy.config.listener.v3 import listener_components_pb2 as envoy_listener_components
from envoy.config.listener.v3 import listener_pb2 as envoy_listener
from envoy.config.route.v3 import route_pb2 as envoy_route
from envoy.extensions.filters.http.router.v3 import router_pb2 as envoy_router
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as envoy_hcm,
)

from reconciler.resource_types import ProxyConfig, TypeUrl

Endpoint = tuple[str, int]


def ads_source() -> envoy_config_source.ConfigSource:
    source = envoy_config_source.ConfigSource(resource_api_version=envoy_config_source.V3)
    source.ads.SetInParent()
    return source


def eds_cluster(name: str, *, timeout_ms: int = 1000) -> envoy_cluster.Cluster:
    cluster = envoy_cluster.Cluster(name=name, type=envoy_cluster.Cluster.EDS)
    cluster.connect_timeout.FromMilliseconds(timeout_ms)
    cluster.eds_cluster_config.eds_config.CopyFrom(ads_source())
    return cluster


def assignment(name: str, endpoints: Sequence[Endpoint]) -> envoy_endpoint.ClusterLoadAssignment:
    cla = envoy_endpoint.ClusterLoadAssignment(cluster_name=name)
    locality = cla.endpoints.add()
    locality.load_balancing_weight.value = 1
    for host, port in endpoints:
        lb = locality.lb_endpoints.add()
        lb.endpoint.address.socket_address.address = host
        lb.endpoint.address.socket_address.port_value = port
    return cla


def static_cluster(name: str, endpoint: Endpoint) -> envoy_cluster.Cluster:
    cluster = envoy_cluster.Cluster(name=name, type=envoy_cluster.Cluster.STATIC)
    cluster.connect_timeout.FromMilliseconds(1000)
    cluster.load_assignment.CopyFrom(assignment(name, [endpoint]))
    return cluster


def socket(host: str, port: int) -> envoy_address.Address:
    return envoy_address.Address(
        socket_address=envoy_address.SocketAddress(address=host, port_value=port)
    )


def http_listener(name: str, endpoint: Endpoint, route_config: str) -> envoy_listener.Listener:
    hcm = envoy_hcm.HttpConnectionManager(stat_prefix=name.replace(":", "_"))
    hcm.rds.route_config_name = route_config
    hcm.rds.config_source.CopyFrom(ads_source())
    router = hcm.http_filters.add(name="envoy.filters.http.router")
    router.typed_config.Pack(envoy_router.Router())
    listener = envoy_listener.Listener(name=name, address=socket(*endpoint))
    chain = listener.filter_chains.add()
    chain.filters.append(
        envoy_listener_components.Filter(name="envoy.filters.network.http_connection_manager")
    )
    chain.filters[0].typed_config.Pack(hcm)
    return listener


def route_configuration(
    name: str, weights: Mapping[str, int], *, retries: int = 0
) -> envoy_route.RouteConfiguration:
    """One virtual host, one catch-all route to ``weights`` (one cluster, or a split)."""
    config = envoy_route.RouteConfiguration(name=name)
    vhost = config.virtual_hosts.add(name=name, domains=["*"])
    route = vhost.routes.add()
    route.match.prefix = "/"
    if len(weights) == 1:
        route.route.cluster = next(iter(weights))
    else:
        for cluster, weight in sorted(weights.items()):
            route.route.weighted_clusters.clusters.add(name=cluster).weight.value = weight
    if retries:
        route.route.retry_policy.retry_on = "connect-failure,refused-stream,reset,5xx"
        route.route.retry_policy.num_retries.value = retries
    return config


def proxy_config(
    node_id: str,
    *,
    listeners: Sequence[envoy_listener.Listener] = (),
    routes: Sequence[envoy_route.RouteConfiguration] = (),
    clusters: Sequence[envoy_cluster.Cluster] = (),
    endpoints: Sequence[envoy_endpoint.ClusterLoadAssignment] = (),
) -> ProxyConfig:
    return ProxyConfig(
        node_id,
        {
            TypeUrl.LISTENER: list(listeners),
            TypeUrl.ROUTE: list(routes),
            TypeUrl.CLUSTER: list(clusters),
            TypeUrl.ENDPOINT: list(endpoints),
        },
    )


def outbound_proxy(
    node_id: str,
    listen: Endpoint,
    weights: Mapping[str, int],
    services: Mapping[str, Sequence[Endpoint]],
    *,
    retries: int = 0,
) -> ProxyConfig:
    """A proxy with one outbound HTTP listener routing to EDS clusters ``services``."""
    route_name = f"outbound:{listen[0]}:{listen[1]}"
    return proxy_config(
        node_id,
        listeners=[http_listener(f"outbound:{listen[0]}:{listen[1]}", listen, route_name)],
        routes=[route_configuration(route_name, weights, retries=retries)],
        clusters=[eds_cluster(name) for name in sorted(services)],
        endpoints=[assignment(name, eps) for name, eps in sorted(services.items())],
    )


def inbound_proxy(node_id: str, listen: Endpoint, app: Endpoint) -> ProxyConfig:
    """A proxy with one inbound HTTP listener forwarding to its local app."""
    name = f"inbound:{listen[0]}:{listen[1]}"
    local = f"localhost:{app[1]}"
    return proxy_config(
        node_id,
        listeners=[http_listener(name, listen, name)],
        routes=[route_configuration(name, {local: 1})],
        clusters=[static_cluster(local, app)],
    )


def many_clusters(
    node_id: str,
    group: int,
    size: int,
    *,
    generation: int = 0,
    listen: Endpoint | None = None,
) -> ProxyConfig:
    """``size`` EDS clusters (``g<group>-c<i>``), their endpoints, one listener routing to all.

    Each ``generation`` changes every cluster (its connect timeout) and every endpoint (port).
    """
    names = [f"g{group}-c{i}" for i in range(size)]
    route_name = f"outbound:group-{group}"
    routes = envoy_route.RouteConfiguration(name=route_name)
    for cluster in names:
        vhost = routes.virtual_hosts.add(name=cluster, domains=[f"{cluster}.mesh"])
        route = vhost.routes.add()
        route.match.prefix = "/"
        route.route.cluster = cluster
    return proxy_config(
        node_id,
        listeners=[http_listener(route_name, listen or ("127.0.0.1", 20000 + group), route_name)],
        routes=[routes],
        clusters=[eds_cluster(n, timeout_ms=1000 + generation) for n in names],
        endpoints=[
            assignment(n, [("127.0.0.1", 30000 + i + generation)]) for i, n in enumerate(names)
        ],
    )
