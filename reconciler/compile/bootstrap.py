"""A static Envoy bootstrap holding one proxy's resources, for ``envoy --mode validate``.

The one place the dynamic form is turned static: EDS clusters become STATIC with their
ClusterLoadAssignment inline, and HCMs that use RDS get their RouteConfiguration inline.
Messages of the ProxyConfig are copied, never modified (they may be shared).
"""

from __future__ import annotations

from typing import Any

from envoy.config.bootstrap.v3 import bootstrap_pb2 as envoy_bootstrap
from envoy.config.cluster.v3 import cluster_pb2 as envoy_cluster
from envoy.config.endpoint.v3 import endpoint_pb2 as envoy_endpoint
from envoy.config.listener.v3 import listener_pb2 as envoy_listener
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as envoy_hcm,
)

from reconciler.compile.mtls import inline_secrets
from reconciler.identity.placeholder import placeholder_secrets
from reconciler.resource_types import ProxyConfig, TypeUrl

NODE_CLUSTER = "reconciler"


def static_bootstrap(config: ProxyConfig) -> envoy_bootstrap.Bootstrap:
    bootstrap = envoy_bootstrap.Bootstrap()
    bootstrap.node.id = config.node_id
    bootstrap.node.cluster = NODE_CLUSTER
    routes = {r.name: r for r in config.of(TypeUrl.ROUTE)}
    assignments = {a.cluster_name: a for a in config.of(TypeUrl.ENDPOINT)}
    for listener in config.of(TypeUrl.LISTENER):
        bootstrap.static_resources.listeners.append(_inline_routes(listener, routes))
    for cluster in config.of(TypeUrl.CLUSTER):
        bootstrap.static_resources.clusters.append(_static(cluster, assignments))
    inline_secrets(bootstrap, lambda: _secrets(config))
    return bootstrap


def _secrets(config: ProxyConfig) -> list[Any]:
    """The proxy's SDS secrets, or throwaway ones when it has none (a render)."""
    served = list(config.of(TypeUrl.SECRET))
    return served or placeholder_secrets(config.node_id.split(".", 1)[0], config.node_id)


def _static(
    cluster: envoy_cluster.Cluster, assignments: dict[str, envoy_endpoint.ClusterLoadAssignment]
) -> envoy_cluster.Cluster:
    if cluster.type != envoy_cluster.Cluster.EDS:
        return cluster
    out = envoy_cluster.Cluster()
    out.CopyFrom(cluster)
    out.ClearField("eds_cluster_config")
    out.type = envoy_cluster.Cluster.STATIC
    assignment = assignments.get(cluster.name)
    if assignment is not None:
        out.load_assignment.CopyFrom(assignment)
    else:
        out.load_assignment.cluster_name = cluster.name
    return out


def _inline_routes(
    listener: envoy_listener.Listener, routes: dict[str, object]
) -> envoy_listener.Listener:
    out = envoy_listener.Listener()
    out.CopyFrom(listener)
    for chain in out.filter_chains:
        for network in chain.filters:
            if not network.typed_config.Is(envoy_hcm.HttpConnectionManager.DESCRIPTOR):
                continue
            hcm = envoy_hcm.HttpConnectionManager()
            network.typed_config.Unpack(hcm)
            if not hcm.HasField("rds"):
                continue
            route = routes.get(hcm.rds.route_config_name)
            hcm.ClearField("rds")
            if route is not None:
                hcm.route_config.CopyFrom(route)
            else:
                hcm.route_config.name = "missing"
            network.typed_config.Pack(hcm, deterministic=True)
    return out
