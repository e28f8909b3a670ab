"""A Dataplane without inbounds (Kuma 2.14 accepts it) compiles to its outbounds only."""

from __future__ import annotations

from test_compile_core import MESH, compile_yaml, dataplane

from reconciler.resource_types import TypeUrl

CLIENT = """
type: Dataplane
mesh: default
name: client-1
networking:
  address: 10.0.0.9
  outbound:
    - port: 10001
      tags:
        kuma.io/service: backend
"""

ZONE_PROXY = """
type: Dataplane
mesh: default
name: zone-1
networking:
  address: 10.0.0.10
  listeners:
    - type: ZoneIngress
      address: 10.0.0.10
      port: 10001
"""


def test_outbound_only_dataplane_gets_its_outbounds() -> None:
    result = compile_yaml(MESH, dataplane("backend-1", "10.0.0.1", "backend"), CLIENT)
    config = result.configs["default.client-1"]
    assert [m.name for m in config.resources[TypeUrl.LISTENER]] == ["outbound:127.0.0.1:10001"]
    assert [m.name for m in config.resources[TypeUrl.CLUSTER]] == ["backend"]
    (assignment,) = config.resources[TypeUrl.ENDPOINT]
    addresses = [
        e.endpoint.address.socket_address.address
        for locality in assignment.endpoints
        for e in locality.lb_endpoints
    ]
    assert addresses == ["10.0.0.1"]


def test_zone_proxy_listeners_alone_compile_to_nothing() -> None:
    result = compile_yaml(MESH, dataplane("backend-1", "10.0.0.1", "backend"), ZONE_PROXY)
    config = result.configs["default.zone-1"]
    assert all(not config.resources.get(t) for t in (TypeUrl.LISTENER, TypeUrl.CLUSTER))
