"""Warnings for what Kuma 2.14 accepts but the reconciler does not apply (RC320).

A repository valid for Kuma must never fail because of these: each is a warning that
names exactly what is ignored, and ``--fail-on warning`` makes it fatal. This module holds
what every policy shares (targetRef kinds, rules with matches, a kind declared "accepted,
not applied" in its folder); what is particular to a kind is in that kind's validator.
"""

from __future__ import annotations

from reconciler import codes
from reconciler.kinds.spec import KindSpec
from reconciler.model import Resource
from reconciler.validate.rules import targetrefs as t
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map

NOT_APPLIED = "not applied by the reconciler"
MATCHES_NOT_COMPILED = (
    "matching the peer's spiffeID (or SNI) per request is not compiled yet; the rule has no effect"
)

REF_KINDS_NOT_APPLIED = {
    t.MESH_GATEWAY: "MeshGateway targets (builtin gateways are not served)",
    t.MESH_MULTI_ZONE_SERVICE: "MeshMultiZoneService references",
    t.MESH_HTTP_ROUTE: "MeshHTTPRoute targets (per-route policies)",
}
BACKEND_REF_KINDS_NOT_APPLIED = REF_KINDS_NOT_APPLIED
"""A route backendRef to a MeshService port or a MeshExternalService is compiled
(``compile/mesh_services.py`` ``route_backend``)."""


def check_kind(f: Findings, spec: KindSpec) -> None:
    """A kind its folder declares "accepted, not applied": one warning per resource."""
    if spec.not_applied is not None:
        f.add(codes.NOT_APPLIED, (), f"{NOT_APPLIED}: {spec.not_applied}")


SPIFFE_MATCHES_APPLIED = frozenset({"MeshTimeout", "MeshRateLimit", "MeshFaultInjection"})
"""Kinds whose ``rules[].matches[].spiffeID`` are compiled (per-peer route copies)."""
PER_ROUTE_KINDS = frozenset({"MeshTimeout", "MeshRetry"})
"""Kinds whose top-level ``targetRef: MeshHTTPRoute`` is compiled (per-route confs)."""


def check_policy(f: Findings, resource: Resource) -> None:
    spec = resource.spec
    top = spec.get("targetRef")
    per_route = resource.kind in PER_ROUTE_KINDS and as_map(top).get("kind") == t.MESH_HTTP_ROUTE
    if not per_route:
        _ref(f, ("targetRef",), top, top=True)
    for section in ("to", "from"):
        for i, entry in enumerate(as_list(spec.get(section))):
            _ref(f, (section, i, "targetRef"), as_map(entry).get("targetRef"), top=False)
            for j, rule in enumerate(as_list(as_map(entry).get("rules"))):
                for k, ref in enumerate(
                    as_list(as_map(as_map(rule).get("default")).get("backendRefs"))
                ):
                    path = (section, i, "rules", j, "default", "backendRefs", k)
                    _ref(f, path, ref, top=False, table=BACKEND_REF_KINDS_NOT_APPLIED)
    for i, rule in enumerate(as_list(spec.get("rules"))):
        matches = as_list(as_map(rule).get("matches"))
        if resource.kind in SPIFFE_MATCHES_APPLIED:
            # spiffeID matches are compiled; an SNI-only match is for zone proxies
            matches = [m for m in matches if as_map(m).get("spiffeID") is None]
        if matches:
            f.add(
                codes.NOT_APPLIED,
                ("rules", i, "matches"),
                f"{NOT_APPLIED}: rules with matches ({MATCHES_NOT_COMPILED})",
            )


def _ref(
    f: Findings,
    path: Path,
    ref: object,
    *,
    top: bool,
    table: dict[str, str] = REF_KINDS_NOT_APPLIED,
) -> None:
    if not isinstance(ref, dict):
        return
    kind = ref.get("kind")
    if isinstance(kind, str) and kind in table:
        f.add(codes.NOT_APPLIED, (*path, "kind"), f"{NOT_APPLIED}: {table[kind]}")
        return
    proxy_types = ref.get("proxyTypes")
    if top and isinstance(proxy_types, list) and proxy_types and "Sidecar" not in proxy_types:
        f.add(
            codes.NOT_APPLIED,
            (*path, "proxyTypes"),
            f"{NOT_APPLIED}: policies for gateway proxies only",
        )
