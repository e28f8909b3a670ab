"""The Mesh's ``meshServices.mode`` for a universal Dataplane that lists its outbounds.

Kuma 2.14 ``DataplaneProxyBuilder.resolveVIPOutbounds``: without transparent proxying (and
without kuma-dp's bind-outbounds) the proxy's outbounds are ``asOutbounds(dataplane)``, the
listed ones as written in every mode: a ``tags`` outbound is the ``kuma.io/service``
destination (cluster ``<service>``), a ``backendRef`` outbound the MeshService port /
MeshExternalService destination. The modes differ only in the VIP outbounds generated under
transparent proxying (Exclusive: no kuma.io/service VIPs; ReachableBackends: MeshService VIPs
only for a Dataplane with ``reachableBackends``), which this control plane does not build, and
in whether MeshServices are generated from the ``kuma.io/service`` tags (any mode but Disabled).
"""

from __future__ import annotations

import pytest

from reconciler import codes
from reconciler.resource_types import TypeUrl
from tests.unit.test_compile_core import compile_yaml

DATAPLANES = """
type: Dataplane
mesh: default
name: api-1
networking:
  address: 127.0.0.3
  inbound:
    - port: 8080
      tags: {kuma.io/service: api, kuma.io/protocol: http}
---
type: Dataplane
mesh: default
name: web-1
networking:
  address: 127.0.0.2
  inbound:
    - port: 8080
      tags: {kuma.io/service: web, kuma.io/protocol: http}
  outbound:
    - port: 10001
      tags: {kuma.io/service: api}
    - port: 10002
      backendRef: {kind: MeshService, name: api, port: 8080}
"""


def mesh(mode: str) -> str:
    return "type: Mesh\nname: default\n" + (f"meshServices: {{mode: {mode}}}\n" if mode else "")


@pytest.mark.parametrize("mode", ["Everywhere", "ReachableBackends", "Exclusive"])
def test_listed_outbounds_are_used_as_written_in_every_mode(mode: str) -> None:
    """asOutbounds: the tags outbound keeps its kuma.io/service cluster (also in Exclusive),
    the backendRef outbound reaches the MeshService generated from the api tag."""
    config = compile_yaml(mesh(mode), DATAPLANES).configs["default.web-1"]
    names = config.by_name()
    assert {"outbound:127.0.0.1:10001", "outbound:127.0.0.1:10002"} <= set(names[TypeUrl.LISTENER])
    assert {"api", "default_api___msvc_8080"} <= set(names[TypeUrl.CLUSTER])
    assert {"outbound:api", "outbound:default_api___msvc_8080"} <= set(names[TypeUrl.ROUTE])


@pytest.mark.parametrize("mode", ["", "Disabled"])
def test_disabled_generates_no_mesh_service(mode: str) -> None:
    result = compile_yaml(mesh(mode), DATAPLANES)
    names = result.configs["default.web-1"].by_name()
    assert "outbound:127.0.0.1:10001" in names[TypeUrl.LISTENER]
    assert "outbound:127.0.0.1:10002" not in names[TypeUrl.LISTENER]
    assert [d.code for d in result.diagnostics] == [codes.OUTBOUND_UNRESOLVED]
