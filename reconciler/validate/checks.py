"""The two layers of checks (see the package's docstring): one resource, and across resources."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.diagnostics import Diagnostic
from reconciler.model import Resource
from reconciler.validate import kind_rules, regexes
from reconciler.validate.cross import check_resources
from reconciler.validate.schema import check_schema


def check_resource(resource: Resource) -> list[Diagnostic]:
    return check_schema(resource) + kind_rules.check_rules(resource) + regexes.check(resource)


def check_mesh(resources: Sequence[Resource]) -> list[Diagnostic]:
    """Every cross-resource diagnostic; ``resources`` are the files' resources one file
    after the other, in repository order."""
    return check_resources(resources)
