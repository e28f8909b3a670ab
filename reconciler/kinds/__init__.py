"""One folder per Kuma kind: everything that makes a kind is found in ``kinds/<kind>/``.

A folder holds ``__init__.py`` (``KIND``: a :class:`~reconciler.kinds.spec.KindSpec`, plain
data), ``validator.py`` (Kuma's validation rules for the kind, if any beyond the shared
opening), ``plugin.py`` (its compile step, when the kind is applied), ``cases/`` (positive
and negative validation cases) and, for applied policies, ``golden/`` (a focused mesh and
its expected Envoy output). Its JSON Schema is ``schemas/<Kind>.schema.json`` at the
repository root. See ``README.md`` here to add a kind.

The catalogue is discovered, not listed: every sub-package with a ``KIND`` is a kind. The
validate and compile registries load a kind's ``validator``/``plugin`` module through
:func:`part`, so validation never imports the compiler (nor its protos).
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Mapping
from types import ModuleType

from reconciler.kinds.spec import Category, KindSpec, Scope, Shape


def _discover() -> dict[str, KindSpec]:
    found: list[KindSpec] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if not info.ispkg:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        spec = getattr(module, "KIND", None)
        if not isinstance(spec, KindSpec):
            raise TypeError(f"reconciler/kinds/{info.name}/__init__.py defines no KIND")
        if spec.package != info.name:
            raise ValueError(f"{spec.name}: package {spec.package!r} != folder {info.name!r}")
        found.append(spec)
    found.sort(key=lambda s: (s.order, s.name))
    return {spec.name: spec for spec in found}


CATALOG: Mapping[str, KindSpec] = _discover()
"""Kind name -> spec, in compile order (``order``, then name)."""

KNOWN_KINDS = frozenset(CATALOG)
FLAT_KINDS = frozenset(name for name, spec in CATALOG.items() if spec.flat)
POLICY_KINDS = tuple(name for name, spec in CATALOG.items() if spec.is_policy)


def part(spec: KindSpec, name: str) -> ModuleType | None:
    """The kind's ``validator`` or ``plugin`` module, or None if its folder has none."""
    module = f"{__name__}.{spec.package}.{name}"
    if importlib.util.find_spec(module) is None:
        return None
    return importlib.import_module(module)


__all__ = [
    "CATALOG",
    "FLAT_KINDS",
    "KNOWN_KINDS",
    "POLICY_KINDS",
    "Category",
    "KindSpec",
    "Scope",
    "Shape",
    "part",
]
