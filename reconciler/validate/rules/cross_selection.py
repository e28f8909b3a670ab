"""Policies whose top-level targetRef selects no proxy of their mesh (a warning).

Dataplanes are indexed per mesh, by name and by service, so the common cases (Mesh,
MeshService, Dataplane by name) cost a lookup; the rest stop at the first match.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from reconciler import codes
from reconciler.diagnostics import Diagnostic, at_spec
from reconciler.kinds import POLICY_KINDS
from reconciler.model import Kind, Resource
from reconciler.targetref import SERVICE_TAG, inbound_tags, inbounds, selects
from reconciler.validate.rules.findings import as_map

SELECTABLE = ("Mesh", "MeshSubset", "MeshService", "MeshServiceSubset", "Dataplane")


@dataclass(slots=True)
class _MeshIndex:
    dataplanes: list[Resource] = field(default_factory=list)
    by_name: dict[str, Resource] = field(default_factory=dict)
    by_service: dict[str, list[Resource]] = field(default_factory=dict)


def _index(resources: Sequence[Resource]) -> dict[str | None, _MeshIndex]:
    meshes: dict[str | None, _MeshIndex] = {}
    for dp in resources:
        if dp.kind != Kind.DATAPLANE:
            continue
        index = meshes.setdefault(dp.mesh, _MeshIndex())
        index.dataplanes.append(dp)
        index.by_name.setdefault(dp.name, dp)
        for service in {inbound_tags(i).get(SERVICE_TAG) for i in inbounds(dp)}:
            if isinstance(service, str):
                index.by_service.setdefault(service, []).append(dp)
    return meshes


def check(resources: Sequence[Resource]) -> Iterable[Diagnostic]:
    meshes = _index(resources)
    empty = _MeshIndex()
    diags: list[Diagnostic] = []
    for policy in resources:
        if policy.kind not in POLICY_KINDS:
            continue
        raw = policy.spec.get("targetRef")
        ref = as_map(raw) if raw is not None else {"kind": "Mesh"}
        kind = ref.get("kind")
        if kind not in SELECTABLE or _gateways_only(ref):
            continue  # gateway-only targets are reported as not applied (RC320)
        index = meshes.get(policy.mesh, empty)
        if kind == "Mesh":
            candidates: Sequence[Resource] = index.dataplanes
        elif kind in ("MeshService", "MeshServiceSubset"):
            candidates = index.by_service.get(str(ref.get("name")), [])
        elif kind == "Dataplane" and isinstance(ref.get("name"), str):
            dp = index.by_name.get(str(ref.get("name")))
            candidates = [dp] if dp is not None else []
        else:
            candidates = index.dataplanes
        if any(selects(ref, dp) for dp in candidates):
            continue
        diags.append(
            at_spec(
                codes.SELECTS_NO_PROXY,
                policy,
                ("targetRef",) if raw is not None else (),
                f"selects no Dataplane of mesh {policy.mesh!r}{_why(ref)}: the policy has no effect",
            )
        )
    return diags


def _why(ref: dict[str, object] | object) -> str:
    name = as_map(ref).get("name")
    if as_map(ref).get("kind") in ("MeshService", "MeshServiceSubset") and isinstance(name, str):
        return f" (no inbound is tagged {SERVICE_TAG}: {name})"
    return ""


def _gateways_only(ref: dict[str, object] | object) -> bool:
    proxy_types = as_map(ref).get("proxyTypes")
    return isinstance(proxy_types, list) and bool(proxy_types) and "Sidecar" not in proxy_types
