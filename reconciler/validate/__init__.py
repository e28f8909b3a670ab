"""Stage ``validate``: resources -> diagnostics. Never raises for bad input.

Before both, :func:`canonical` gives a protobuf-backed flat kind (Mesh, Dataplane, ...) the
form Kuma's jsonpb reads (JSON field names, numbers, enum names): every later stage sees it.

Two layers, as Kuma has them, plus what Kuma lacks:

* :func:`check_resource`: the kind's JSON Schema (``schema.py``), then the semantic rules of
  one resource (its kind's folder, ``kind_rules.py``). Depends only on the resource, so results are cached per file.
  Every kind's regular expressions are compiled with RE2, as Envoy will (``regexes.py``).
* :func:`check_mesh`: cross-resource rules over everything loaded (duplicates, references,
  port collisions, policies selecting nothing). Each rule checks one file's resources and
  reads the others through an index (``rules/cross_view.py``), so that ``cross.py`` can
  check again only the files a change can affect, with the same result.

Rules run on every resource, even one with schema errors, so all problems show at once:
a rule must skip a field whose type is wrong (the schema already reported it).
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.diagnostics import Diagnostic
from reconciler.model import Resource
from reconciler.validate import kind_rules, regexes
from reconciler.validate.canonical import canonical
from reconciler.validate.cross import check_resources
from reconciler.validate.schema import check_schema

__all__ = ["canonical", "check_mesh", "check_resource"]


def check_resource(resource: Resource) -> list[Diagnostic]:
    return check_schema(resource) + kind_rules.check_rules(resource) + regexes.check(resource)


def check_mesh(resources: Sequence[Resource]) -> list[Diagnostic]:
    """Every cross-resource diagnostic; ``resources`` are the files' resources one file
    after the other, in repository order."""
    return check_resources(resources)
