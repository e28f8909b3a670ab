"""Duplicate ``(type, mesh, name)`` across files: an error naming both places."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler import codes
from reconciler.diagnostics import Diagnostic, at_resource
from reconciler.model import Resource
from reconciler.validate.rules.cross_view import CrossView


def check(resources: Sequence[Resource], view: CrossView) -> list[Diagnostic]:
    """``resources``: the resources of one file, in their order."""
    diags: list[Diagnostic] = []
    for i, resource in enumerate(resources):
        file, index, line, col = view.first(resource)
        if file == resource.file and index == i:
            continue
        key = resource.key
        diags.append(
            at_resource(
                codes.DUPLICATE_RESOURCE,
                resource,
                ("name",),
                f"duplicate {key}: already defined at {file}:{line}:{col}",
            )
        )
    return diags
