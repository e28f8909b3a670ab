"""Warnings for what Kuma 2.14 accepts but the reconciler does not apply (RC320).

A repository valid for Kuma must never fail because of these: each is a warning that
names exactly what is ignored, and ``--fail-on warning`` makes it fatal. The tables below
are the one place that lists them; shrink them as the compiler learns more.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from reconciler import codes
from reconciler.diagnostics import Diagnostic
from reconciler.model import Kind, Resource
from reconciler.targetref import SERVICE_TAG
from reconciler.validate.rules import targetrefs as t
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map, is_set

MESH_FIELDS_NOT_APPLIED = {
    "metrics": "Mesh metrics backends (use MeshMetric with Kuma)",
    "tracing": "Mesh tracing backends",
    "logging": "Mesh logging backends (MeshAccessLog is applied)",
    "routing": "Mesh routing options (locality-aware load balancing, zone egress)",
    "constraints": "Mesh dataplane constraints",
    "networking": "Mesh networking (outbound passthrough)",
    "meshServices": "Mesh meshServices mode (MeshService resources are not generated)",
}
DATAPLANE_FIELDS_NOT_APPLIED = {
    "gateway": "builtin or delegated gateway proxies",
    "transparentProxying": "transparent proxying (outbounds listen on their own address and port)",
    "probes": "virtual probes",
    "metrics": "per-proxy metrics",
    "admin": None,
}
REF_KINDS_NOT_APPLIED = {
    t.MESH_GATEWAY: "MeshGateway targets (builtin gateways are not served)",
    t.MESH_EXTERNAL_SERVICE: "MeshExternalService references",
    t.MESH_MULTI_ZONE_SERVICE: "MeshMultiZoneService references",
    t.MESH_HTTP_ROUTE: "MeshHTTPRoute targets (per-route policies)",
}


def check_mesh(resource: Resource) -> Iterable[Diagnostic]:
    f = Findings(resource)
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
    return f.diagnostics


def check_dataplane(resource: Resource) -> Iterable[Diagnostic]:
    f = Findings(resource)
    networking = as_map(resource.data.get("networking"))
    for field, what in DATAPLANE_FIELDS_NOT_APPLIED.items():
        if what is not None and is_set(networking.get(field)):
            f.add(
                codes.NOT_APPLIED, ("networking", field), f"not applied by the reconciler: {what}"
            )
    for i, inbound in enumerate(as_list(networking.get("inbound"))):
        tags = as_map(as_map(inbound).get("tags"))
        if isinstance(inbound, dict) and not tags:
            f.add(
                codes.NOT_APPLIED,
                ("networking", "inbound", i),
                f"inbound without tags is not applied: the reconciler needs a {SERVICE_TAG} tag",
            )
    for i, outbound in enumerate(as_list(networking.get("outbound"))):
        if is_set(as_map(outbound).get("backendRef")):
            f.add(
                codes.NOT_APPLIED,
                ("networking", "outbound", i, "backendRef"),
                f"not applied by the reconciler: outbound backendRef (use tags with {SERVICE_TAG})",
            )
    return f.diagnostics


PEER_KINDS = (t.MESH_SUBSET, t.MESH_SERVICE, t.MESH_SERVICE_SUBSET)
PEER_SELECTION = "selecting peers needs the mesh identity, which is not compiled yet"


def check_policy(resource: Resource) -> Iterable[Diagnostic]:
    f = Findings(resource)
    spec = resource.spec
    _inbound_sections(f, resource.kind, spec)
    _ref(f, ("targetRef",), spec.get("targetRef"), top=True)
    for section in ("to", "from"):
        for i, entry in enumerate(as_list(spec.get(section))):
            _ref(f, (section, i, "targetRef"), as_map(entry).get("targetRef"), top=False)
            for j, rule in enumerate(as_list(as_map(entry).get("rules"))):
                for k, ref in enumerate(
                    as_list(as_map(as_map(rule).get("default")).get("backendRefs"))
                ):
                    _ref(f, (section, i, "rules", j, "default", "backendRefs", k), ref, top=False)
    return f.diagnostics


def _ref(f: Findings, path: Path, ref: object, *, top: bool) -> None:
    if not isinstance(ref, dict):
        return
    kind = ref.get("kind")
    if isinstance(kind, str) and kind in REF_KINDS_NOT_APPLIED:
        f.add(
            codes.NOT_APPLIED,
            (*path, "kind"),
            f"not applied by the reconciler: {REF_KINDS_NOT_APPLIED[kind]}",
        )
        return
    proxy_types = ref.get("proxyTypes")
    if top and isinstance(proxy_types, list) and proxy_types and "Sidecar" not in proxy_types:
        f.add(
            codes.NOT_APPLIED,
            (*path, "proxyTypes"),
            "not applied by the reconciler: policies for gateway proxies only",
        )
    if (
        kind == t.MESH_SERVICE
        and not top
        and (is_set(ref.get("labels")) or is_set(ref.get("sectionName")))
    ):
        f.add(
            codes.NOT_APPLIED,
            path,
            "not applied by the reconciler: selecting MeshService resources by labels or sectionName (use name: <kuma.io/service>)",
        )


def _inbound_sections(f: Findings, kind: str, spec: Mapping[str, Any]) -> None:
    if kind == Kind.MESH_TRAFFIC_PERMISSION:
        if as_list(spec.get("rules")):
            f.add(
                codes.NOT_APPLIED,
                ("rules",),
                f"not applied by the reconciler: MeshTrafficPermission rules ({PEER_SELECTION}); "
                "use from[]",
            )
        return
    for i, entry in enumerate(as_list(spec.get("from"))):
        ref_kind = as_map(as_map(entry).get("targetRef")).get("kind")
        # only MeshFaultInjection accepts from[] kinds other than Mesh (MTP compiles them)
        if kind == Kind.MESH_FAULT_INJECTION and ref_kind in PEER_KINDS:
            f.add(
                codes.NOT_APPLIED,
                ("from", i, "targetRef", "kind"),
                f"not applied by the reconciler: from[] entry of kind {ref_kind} ({PEER_SELECTION})",
            )
    for i, rule in enumerate(as_list(spec.get("rules"))):
        if as_list(as_map(rule).get("matches")):
            f.add(
                codes.NOT_APPLIED,
                ("rules", i, "matches"),
                f"not applied by the reconciler: rules with matches ({PEER_SELECTION})",
            )
