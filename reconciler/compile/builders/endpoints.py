"""ClusterLoadAssignment builders (locality-free in v1: one locality with weight 1)."""

from __future__ import annotations

from collections.abc import Iterable

from envoy.config.core.v3 import address_pb2 as envoy_address
from envoy.config.endpoint.v3 import endpoint_components_pb2 as envoy_endpoint_components
from envoy.config.endpoint.v3 import endpoint_pb2 as envoy_endpoint

from reconciler.compile.inventory import Endpoint


def socket_address(address: str, port: int) -> envoy_address.Address:
    out = envoy_address.Address()
    out.socket_address.address = address
    out.socket_address.port_value = port
    return out


def load_assignment(
    cluster_name: str, endpoints: Iterable[Endpoint]
) -> envoy_endpoint.ClusterLoadAssignment:
    """Every endpoint in one locality; the locality weight keeps proxyless gRPC happy."""
    assignment = envoy_endpoint.ClusterLoadAssignment(cluster_name=cluster_name)
    locality = envoy_endpoint_components.LocalityLbEndpoints()
    locality.load_balancing_weight.value = 1
    for ep in endpoints:
        lb = locality.lb_endpoints.add()
        lb.endpoint.address.CopyFrom(socket_address(ep.address, ep.port))
        lb.load_balancing_weight.value = 1
    assignment.endpoints.append(locality)
    return assignment
