"""Duplicate ``(type, mesh, name)`` across files: an error naming both places."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from reconciler import codes
from reconciler.diagnostics import Diagnostic, at_resource
from reconciler.model import Resource, ResourceKey


def check(resources: Sequence[Resource]) -> Iterable[Diagnostic]:
    first: dict[ResourceKey, Resource] = {}
    diags: list[Diagnostic] = []
    for resource in resources:
        key = resource.key
        seen = first.get(key)
        if seen is None:
            first[key] = resource
            continue
        where = f"{seen.file}:{seen.position.line}:{seen.position.col}"
        diags.append(
            at_resource(
                codes.DUPLICATE_RESOURCE,
                resource,
                ("name",),
                f"duplicate {key}: already defined at {where}",
            )
        )
    return diags
