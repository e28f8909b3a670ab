"""What Kuma 2.14 applies from a Mesh and the reconciler does not (RC320 warnings)."""

from __future__ import annotations

from reconciler import codes
from reconciler.model import Resource
from reconciler.validate.rules.findings import Findings, as_list, as_map, is_set

MESH_FIELDS_NOT_APPLIED = {
    "metrics": "Mesh metrics backends (use MeshMetric with Kuma)",
    "tracing": "Mesh tracing backends",
    "logging": "Mesh logging backends (MeshAccessLog is applied)",
    "constraints": "Mesh dataplane constraints",
    "networking": "Mesh networking (outbound passthrough)",
}


ROUTING_NOT_APPLIED = {
    "zoneEgress": (
        "ZoneEgress routing of external traffic: Kuma sends ExternalService and "
        "MeshExternalService traffic through a ZoneEgress; this control plane runs no zone "
        "proxies, so each sidecar connects to the external endpoints itself"
    ),
    "localityAwareLoadBalancing": "locality-aware load balancing across zones",
    "defaultForbidMeshExternalServiceAccess": (
        "forbidding MeshExternalService access by default: Kuma enforces it (with "
        "MeshTrafficPermission) on the ZoneEgress, which this control plane does not run, so "
        "every sidecar with an outbound to a MeshExternalService reaches it"
    ),
}
"""``routing`` options, each a boolean; ``false`` is Kuma's default, so only ``true`` warns."""


def check(f: Findings, resource: Resource) -> None:
    for field, what in MESH_FIELDS_NOT_APPLIED.items():
        if is_set(resource.data.get(field)):
            f.add(codes.NOT_APPLIED, (field,), f"not applied by the reconciler: {what}")
    routing = as_map(resource.data.get("routing"))
    for field, what in ROUTING_NOT_APPLIED.items():
        if routing.get(field) is True:
            f.add(codes.NOT_APPLIED, ("routing", field), f"not applied by the reconciler: {what}")
    for i, backend in enumerate(as_list(as_map(resource.data.get("mtls")).get("backends"))):
        kind = as_map(backend).get("type")
        if isinstance(kind, str) and kind != "builtin":
            f.add(
                codes.NOT_APPLIED,
                ("mtls", "backends", i, "type"),
                f"not applied by the reconciler: mTLS backend type {kind!r} (only builtin)",
            )
