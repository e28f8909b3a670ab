"""Listener, HTTP connection manager and tcp_proxy builders."""

from __future__ import annotations

from envoy.config.core.v3 import address_pb2 as envoy_address
from envoy.config.core.v3 import base_pb2 as envoy_base
from envoy.config.listener.v3 import listener_pb2 as envoy_listener
from envoy.config.route.v3 import route_pb2 as envoy_route_config
from envoy.extensions.filters.http.router.v3 import router_pb2 as envoy_router
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as envoy_hcm,
)
from envoy.extensions.filters.network.tcp_proxy.v3 import tcp_proxy_pb2 as envoy_tcp
from google.protobuf import any_pb2

from reconciler.compile.builders.clusters import ads_config_source
from reconciler.compile.context import ListenerParts

HCM_FILTER = "envoy.filters.network.http_connection_manager"
TCP_PROXY_FILTER = "envoy.filters.network.tcp_proxy"
ROUTER_FILTER = "envoy.filters.http.router"


def listener(name: str, address: str, port: int, *, inbound: bool) -> envoy_listener.Listener:
    out = envoy_listener.Listener(name=name)
    out.address.socket_address.address = address
    out.address.socket_address.port_value = port
    out.address.socket_address.protocol = envoy_address.SocketAddress.TCP
    set_direction(out, inbound=inbound)
    return out


def set_direction(out: envoy_listener.Listener, *, inbound: bool) -> None:
    out.traffic_direction = envoy_base.INBOUND if inbound else envoy_base.OUTBOUND


def relocated(
    template: envoy_listener.Listener, name: str, address: str, port: int
) -> envoy_listener.Listener:
    """A copy of ``template`` listening elsewhere (same filter chains)."""
    out = envoy_listener.Listener()
    out.CopyFrom(template)
    out.name = name
    out.address.socket_address.address = address
    out.address.socket_address.port_value = port
    return out


def http_connection_manager(
    stat_prefix: str,
    *,
    rds_name: str | None = None,
    route_config: envoy_route_config.RouteConfiguration | None = None,
) -> envoy_hcm.HttpConnectionManager:
    hcm = envoy_hcm.HttpConnectionManager(
        stat_prefix=stat_prefix, codec_type=envoy_hcm.HttpConnectionManager.AUTO
    )
    if rds_name is not None:
        hcm.rds.route_config_name = rds_name
        hcm.rds.config_source.CopyFrom(ads_config_source())
    elif route_config is not None:
        hcm.route_config.CopyFrom(route_config)
    return hcm


def tcp_proxy(stat_prefix: str, cluster: str | None = None) -> envoy_tcp.TcpProxy:
    out = envoy_tcp.TcpProxy(stat_prefix=stat_prefix)
    if cluster is not None:
        out.cluster = cluster
    return out


def router_filter() -> envoy_hcm.HttpFilter:
    out = envoy_hcm.HttpFilter(name=ROUTER_FILTER)
    out.typed_config.Pack(envoy_router.Router(), deterministic=True)
    return out


def finish(parts: ListenerParts) -> envoy_listener.Listener:
    """Pack the network filter (HCM with the policies' HTTP filters + router, or tcp_proxy)."""
    chain = parts.listener.filter_chains.add()
    chain.filters.extend(parts.network_filters)
    network = chain.filters.add()
    packed = any_pb2.Any()
    if parts.hcm is not None:
        del parts.hcm.http_filters[:]
        parts.hcm.http_filters.extend(parts.http_filters)
        parts.hcm.http_filters.append(router_filter())
        network.name = HCM_FILTER
        packed.Pack(parts.hcm, deterministic=True)
    else:
        assert parts.tcp_proxy is not None, "a listener needs an HCM or a tcp_proxy"
        network.name = TCP_PROXY_FILTER
        packed.Pack(parts.tcp_proxy, deterministic=True)
    network.typed_config.CopyFrom(packed)
    return parts.listener
