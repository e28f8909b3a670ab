"""Policies whose top-level targetRef selects no proxy of their mesh (a warning).

The view lists a mesh's Dataplanes, those with an inbound of one service, and the first one
of a name; the common cases (Mesh, MeshService, Dataplane by name) stop at the first match.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from reconciler import codes
from reconciler.diagnostics import Diagnostic, at_spec
from reconciler.kinds import POLICY_KINDS
from reconciler.model import Resource
from reconciler.targetref import SERVICE_TAG, selects
from reconciler.validate.rules.cross_view import CrossView
from reconciler.validate.rules.findings import as_map

SELECTABLE = ("Mesh", "MeshSubset", "MeshService", "MeshServiceSubset", "Dataplane")


def check(resources: Sequence[Resource], view: CrossView) -> list[Diagnostic]:
    """``resources``: the resources of one file, in their order."""
    diags: list[Diagnostic] = []
    for policy in resources:
        if policy.kind not in POLICY_KINDS:
            continue
        raw = policy.spec.get("targetRef")
        ref = as_map(raw) if raw is not None else {"kind": "Mesh"}
        kind = ref.get("kind")
        if kind not in SELECTABLE or _gateways_only(ref):
            continue  # gateway-only targets are reported as not applied (RC320)
        test = partial(selects, ref)
        name = ref.get("name")
        if kind in ("MeshService", "MeshServiceSubset"):
            selected = view.any_dataplane(policy.mesh, str(name), test)
        elif kind == "Dataplane" and isinstance(name, str):
            dp = view.dataplane_named(policy.mesh, name)
            selected = dp is not None and test(dp)
        else:
            selected = view.any_dataplane(policy.mesh, None, test)
        if selected:
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
