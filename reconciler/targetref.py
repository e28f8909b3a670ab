"""Which proxies and inbounds a top-level ``targetRef`` selects (Kuma 2.14 semantics).

Plain data only (no protos), shared by validation ("a policy that selects no proxy") and
the compiler. Source of the rules: Kuma ``pkg/plugins/policies/core/matchers/dataplane.go``:

* ``Mesh`` (or no targetRef): every proxy of the mesh, every inbound.
* ``MeshSubset{tags}``: inbounds whose tags contain all ``tags``; the proxy if any matches.
* ``MeshService{name}``: inbounds tagged ``kuma.io/service: name``.
* ``MeshServiceSubset{name, tags}``: those inbounds that also carry all ``tags``.
* ``Dataplane{name | labels, sectionName}``: the proxy by name, or whose resource labels
  contain all ``labels``; with ``sectionName``, only the inbound with that name (or port).
* ``MeshGateway``: gateways are not compiled here; selects no sidecar proxy.
* ``proxyTypes: [Gateway]`` (without ``Sidecar``) selects no sidecar proxy either.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.model import Resource

MESH = "Mesh"
MESH_SUBSET = "MeshSubset"
MESH_SERVICE = "MeshService"
MESH_SERVICE_SUBSET = "MeshServiceSubset"
MESH_GATEWAY = "MeshGateway"
MESH_HTTP_ROUTE = "MeshHTTPRoute"
MESH_EXTERNAL_SERVICE = "MeshExternalService"
MESH_MULTI_ZONE_SERVICE = "MeshMultiZoneService"
DATAPLANE = "Dataplane"
"""The targetRef kinds (Kuma 2.14 ``TargetRefKind``)."""

TOP_LEVEL = (MESH, MESH_SUBSET, MESH_GATEWAY, MESH_SERVICE, MESH_SERVICE_SUBSET, DATAPLANE)
"""The top-level targets most Kuma 2.14 policies accept (each validator lists its own)."""
DESTINATIONS = (MESH, MESH_SERVICE, MESH_EXTERNAL_SERVICE, MESH_MULTI_ZONE_SERVICE)
"""The ``to[]`` targets of most outbound policies."""
SERVICES = (MESH_SERVICE, MESH_EXTERNAL_SERVICE, MESH_MULTI_ZONE_SERVICE)
"""The ``to[]`` targets of routes."""

SERVICE_TAG = "kuma.io/service"
PROTOCOL_TAG = "kuma.io/protocol"

KIND_ORDER = {
    "Mesh": 1,
    "Dataplane": 2,
    "MeshSubset": 3,
    "MeshGateway": 4,
    "MeshService": 5,
    "MeshExternalService": 6,
    "MeshMultiZoneService": 7,
    "MeshServiceSubset": 8,
    "MeshHTTPRoute": 9,
}
"""Kuma 2.14 ``TargetRef`` kind order (least to most specific)."""

TOP_LEVEL_ORDER = KIND_ORDER
"""Top-level targetRef kinds are ranked with the same table as every targetRef in Kuma 2.14
(``api/common/v1alpha1/targetref.go`` ``order``, used by ``CompareByPolicyAttributes``):
Mesh < Dataplane < MeshSubset < MeshGateway < MeshService < MeshServiceSubset. Kuma's docs
list only Mesh and Dataplane for new policies; where the legacy kinds meet ``Dataplane`` the
code decides, so a ``MeshService`` top-level policy is more specific than a ``Dataplane``
one. Among ``Dataplane`` refs, one by ``name`` beats one by ``labels``, and one with
``sectionName`` beats one without (``CompareDataplaneKind``)."""


def inbounds(dataplane: Resource) -> list[Mapping[str, Any]]:
    networking = dataplane.data.get("networking")
    if not isinstance(networking, dict):
        return []
    raw = networking.get("inbound")
    return [i for i in raw if isinstance(i, dict)] if isinstance(raw, list) else []


def inbound_tags(inbound: Mapping[str, Any]) -> Mapping[str, str]:
    tags = inbound.get("tags")
    return tags if isinstance(tags, dict) else {}


def _contains(tags: Mapping[str, Any], wanted: Any) -> bool:
    if not isinstance(wanted, dict):
        return True
    return all(str(tags.get(k)) == str(v) for k, v in wanted.items() if k in tags) and all(
        k in tags for k in wanted
    )


def selected_inbounds(target_ref: Mapping[str, Any] | None, dataplane: Resource) -> list[int]:
    """Indexes of the inbounds of ``dataplane`` that ``target_ref`` selects."""
    all_inbounds = inbounds(dataplane)
    ref = target_ref if isinstance(target_ref, dict) else {"kind": "Mesh"}
    kind = ref.get("kind", "Mesh")
    if not sidecars_included(ref):
        return []
    if kind == "Mesh":
        return list(range(len(all_inbounds)))
    if kind == "MeshSubset":
        return [
            i for i, ib in enumerate(all_inbounds) if _contains(inbound_tags(ib), ref.get("tags"))
        ]
    if kind in ("MeshService", "MeshServiceSubset"):
        name = ref.get("name")
        tags = ref.get("tags") if kind == "MeshServiceSubset" else None
        return [
            i
            for i, ib in enumerate(all_inbounds)
            if inbound_tags(ib).get(SERVICE_TAG) == name and _contains(inbound_tags(ib), tags)
        ]
    if kind == "Dataplane":
        if not dataplane_matches(ref, dataplane):
            return []
        section = ref.get("sectionName")
        if section is None:
            return list(range(len(all_inbounds)))
        return [
            i
            for i, ib in enumerate(all_inbounds)
            if ib.get("name") == section or str(ib.get("port")) == str(section)
        ]
    return []


def sidecars_included(ref: Mapping[str, Any]) -> bool:
    """``proxyTypes`` (Mesh, MeshSubset): unset or empty means all; every Dataplane here is a
    sidecar, so ``[Gateway]`` alone selects none of them (Kuma ``DppSelectedByPolicy``)."""
    types = ref.get("proxyTypes")
    return not isinstance(types, list) or not types or "Sidecar" in types


def dataplane_matches(ref: Mapping[str, Any], dataplane: Resource) -> bool:
    """``Dataplane`` targetRef without sectionName: by ``name`` and/or resource ``labels``."""
    name = ref.get("name")
    if name is not None and name != dataplane.name:
        return False
    labels = ref.get("labels")
    return _contains(dataplane.labels, labels)


def selects(target_ref: Mapping[str, Any] | None, dataplane: Resource) -> bool:
    """True if ``target_ref`` selects the proxy ``dataplane`` (any of its inbounds, or all)."""
    ref = target_ref if isinstance(target_ref, dict) else {"kind": "Mesh"}
    kind = ref.get("kind", "Mesh")
    if not sidecars_included(ref):
        return False
    if kind == "Mesh":
        return True
    if kind == "Dataplane" and ref.get("sectionName") is None:
        return dataplane_matches(ref, dataplane)
    return bool(selected_inbounds(ref, dataplane))
