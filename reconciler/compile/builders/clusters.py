"""Cluster builders: EDS clusters for services, static clusters for the local application."""

from __future__ import annotations

import ipaddress

from envoy.config.cluster.v3 import cluster_pb2 as envoy_cluster
from envoy.config.core.v3 import base_pb2 as envoy_base
from envoy.config.core.v3 import config_source_pb2 as envoy_config_source
from envoy.config.endpoint.v3 import endpoint_components_pb2 as envoy_endpoint_components
from envoy.config.endpoint.v3 import endpoint_pb2 as envoy_endpoint
from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2 as envoy_upstream_http
from google.protobuf import any_pb2

from reconciler.compile.builders.endpoints import socket_address
from reconciler.compile.builders.values import set_duration
from reconciler.compile.context import ClusterParts

HTTP_OPTIONS_KEY = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
DEFAULT_CONNECT_TIMEOUT_S = 5.0


def ads_config_source() -> envoy_config_source.ConfigSource:
    source = envoy_config_source.ConfigSource(
        resource_api_version=envoy_config_source.ApiVersion.V3
    )
    source.ads.SetInParent()
    return source


def eds_cluster(name: str, *, http2: bool) -> ClusterParts:
    cluster = envoy_cluster.Cluster(name=name, type=envoy_cluster.Cluster.EDS)
    set_duration(cluster.connect_timeout, DEFAULT_CONNECT_TIMEOUT_S)
    cluster.eds_cluster_config.eds_config.CopyFrom(ads_config_source())
    parts = ClusterParts(cluster)
    if http2:
        parts.http_options = http2_options()
    return parts


def static_cluster(name: str, address: str, port: int, *, http2: bool) -> ClusterParts:
    cluster = envoy_cluster.Cluster(name=name, type=envoy_cluster.Cluster.STATIC)
    return _one_endpoint(cluster, address, port, http2=http2)


def _one_endpoint(
    cluster: envoy_cluster.Cluster, host: str, port: int, *, http2: bool
) -> ClusterParts:
    """``cluster`` with Kuma's default connect timeout and its one endpoint ``host:port``."""
    set_duration(cluster.connect_timeout, DEFAULT_CONNECT_TIMEOUT_S)
    assignment = envoy_endpoint.ClusterLoadAssignment(cluster_name=cluster.name)
    lb = envoy_endpoint_components.LbEndpoint()
    lb.endpoint.address.CopyFrom(socket_address(host, port))
    assignment.endpoints.add().lb_endpoints.append(lb)
    cluster.load_assignment.CopyFrom(assignment)
    parts = ClusterParts(cluster)
    if http2:
        parts.http_options = http2_options()
    return parts


def http2_options() -> envoy_upstream_http.HttpProtocolOptions:
    options = envoy_upstream_http.HttpProtocolOptions()
    options.explicit_http_config.http2_protocol_options.SetInParent()
    return options


def default_threshold(cluster: envoy_cluster.Cluster) -> envoy_cluster.CircuitBreakers.Thresholds:
    """The DEFAULT-priority circuit breaker threshold, created if missing (Kuma's
    ``ensureDefaultThreshold``)."""
    for threshold in cluster.circuit_breakers.thresholds:
        if threshold.priority == envoy_base.RoutingPriority.DEFAULT:
            return threshold
    return cluster.circuit_breakers.thresholds.add()


def finish(parts: ClusterParts) -> envoy_cluster.Cluster:
    """Pack the edited protocol options into the cluster; the cluster is final afterwards.

    Every cluster tracks its remaining circuit-breaker capacity, as Kuma 2.14's
    MeshCircuitBreaker plugin makes every cluster of a proxy do (``applyTrackRemaining``).
    """
    default_threshold(parts.cluster).track_remaining = True
    if parts.http_options is not None:
        packed = any_pb2.Any()
        packed.Pack(parts.http_options, deterministic=True)
        parts.cluster.typed_extension_protocol_options[HTTP_OPTIONS_KEY].CopyFrom(packed)
    return parts.cluster


def provided_endpoint_cluster(
    name: str, host: str, port: int, *, ipv6: bool, http2: bool
) -> ClusterParts:
    """Kuma ``ProvidedEndpointCluster`` + ``DefaultTimeout``: one endpoint given by address;
    STATIC for an IP address, else STRICT_DNS resolving ``V4_ONLY`` (``AUTO`` on a proxy
    with an IPv6 address). Collector clusters of observability policies use it."""
    cluster = envoy_cluster.Cluster(name=name)
    if is_ip(host):
        cluster.type = envoy_cluster.Cluster.STATIC
    else:
        cluster.type = envoy_cluster.Cluster.STRICT_DNS
        cluster.dns_lookup_family = (
            envoy_cluster.Cluster.AUTO if ipv6 else envoy_cluster.Cluster.V4_ONLY
        )
    return _one_endpoint(cluster, host, port, http2=http2)


def is_ip(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True
