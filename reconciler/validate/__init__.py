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

The names below are imported on first use: a warm ``validate`` with nothing to parse
imports neither the kinds' rules nor the schemas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.validate.canonical_form import canonical
    from reconciler.validate.checks import check_mesh, check_resource

__all__ = ["canonical", "check_mesh", "check_resource"]

_HOMES = {
    "canonical": "reconciler.validate.canonical_form",
    "check_mesh": "reconciler.validate.checks",
    "check_resource": "reconciler.validate.checks",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
