"""What Kuma 2.14 applies from a Mesh and the reconciler does not (RC320 warnings)."""

from __future__ import annotations

from reconciler import codes
from reconciler.model import Resource
from reconciler.validate.rules.findings import Findings, as_list, as_map, is_set

MESH_FIELDS_NOT_APPLIED = {
    "metrics": "Mesh metrics backends (use MeshMetric with Kuma)",
    "tracing": "Mesh tracing backends",
    "logging": "Mesh logging backends (MeshAccessLog is applied)",
    "routing": "Mesh routing options (locality-aware load balancing, zone egress)",
    "constraints": "Mesh dataplane constraints",
    "networking": "Mesh networking (outbound passthrough)",
}


def check(f: Findings, resource: Resource) -> None:
    for field, what in MESH_FIELDS_NOT_APPLIED.items():
        if is_set(resource.data.get(field)):
            f.add(codes.NOT_APPLIED, (field,), f"not applied by the reconciler: {what}")
    for i, backend in enumerate(as_list(as_map(resource.data.get("mtls")).get("backends"))):
        kind = as_map(backend).get("type")
        if isinstance(kind, str) and kind != "builtin":
            f.add(
                codes.NOT_APPLIED,
                ("mtls", "backends", i, "type"),
                f"not applied by the reconciler: mTLS backend type {kind!r} (only builtin)",
            )
