"""RouteConfiguration, virtual host and route builders."""

from __future__ import annotations

from collections.abc import Iterable

from envoy.config.route.v3 import route_components_pb2 as envoy_route
from envoy.config.route.v3 import route_pb2 as envoy_route_config


def route_configuration(
    name: str, vhost_name: str, routes: Iterable[envoy_route.Route]
) -> envoy_route_config.RouteConfiguration:
    config = envoy_route_config.RouteConfiguration(name=name)
    config.validate_clusters.value = False
    vhost = config.virtual_hosts.add(name=vhost_name, domains=["*"])
    vhost.routes.extend(routes)
    return config


def prefix_route(name: str, cluster: str, prefix: str = "/") -> envoy_route.Route:
    route = envoy_route.Route(name=name)
    route.match.prefix = prefix
    route.route.cluster = cluster
    return route
