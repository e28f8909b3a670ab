"""The rules of one resource, derived from its kind's folder (``reconciler/kinds/<kind>/``).

Every kind's name (and mesh) follows Kuma's ``ValidateMeta``. A policy kind's ``Shape`` drives the shared opening (targetRef and sections); its
``validator.py`` may add ``check_default(findings, path, value, top)`` for each ``default``
block and ``check(findings, resource)`` for the rest. Every policy gets the shared
not-applied warnings; a kind declared "accepted, not applied" gets one warning per resource.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from reconciler.diagnostics import Diagnostic
from reconciler.kinds import CATALOG, part
from reconciler.kinds.spec import Scope
from reconciler.model import Resource
from reconciler.validate.rules import not_applied
from reconciler.validate.rules.findings import Findings
from reconciler.validate.rules.identifiers import check_meta
from reconciler.validate.rules.opening import DefaultCheck, check_opening

KindCheck = Callable[[Findings, Resource], None]


@cache
def _rules(kind: str) -> tuple[KindCheck, ...]:
    spec = CATALOG.get(kind)
    if spec is None:
        return ()  # the loader reported the unknown type
    module = part(spec, "validator")
    own: KindCheck | None = getattr(module, "check", None)
    default: DefaultCheck | None = getattr(module, "check_default", None)
    mesh_scoped = spec.scope == Scope.MESH

    def meta(f: Findings, resource: Resource) -> None:
        check_meta(f, resource, mesh_scoped=mesh_scoped)

    checks: list[KindCheck] = [meta]
    if spec.shape is not None:
        shape = spec.shape

        def opening(f: Findings, resource: Resource) -> None:
            check_opening(f, resource.spec, shape, default)

        checks.append(opening)
    if own is not None:
        checks.append(own)
    if spec.shape is not None:
        checks.append(not_applied.check_policy)
    if spec.not_applied is not None:

        def declared(f: Findings, resource: Resource) -> None:
            not_applied.check_kind(f, spec)

        checks.append(declared)
    return tuple(checks)


def check_rules(resource: Resource) -> list[Diagnostic]:
    """Every semantic diagnostic of one resource (no schema, no cross-resource checks)."""
    f = Findings(resource)
    for rule in _rules(resource.kind):
        rule(f, resource)
    return f.diagnostics
