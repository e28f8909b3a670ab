"""What every rule needs: a collector of diagnostics and type-safe reads of plain data.

Rules run even on resources with schema errors, so a value may have any type. The readers
here return an empty mapping or list for a value of the wrong type; a rule then checks only
what is there and leaves type errors to the schema.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeGuard

from reconciler.diagnostics import Diagnostic, Severity, at_resource, at_spec
from reconciler.model import FieldPath, Resource

Path = tuple[str | int, ...]


def as_map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> Sequence[Any]:
    return value if isinstance(value, list) else []


def is_set(value: object) -> bool:
    """Go's "is set" for the shapes Kuma uses: non-empty string, map or list; any other value."""
    if value is None:
        return False
    if isinstance(value, str | dict | list):
        return len(value) > 0
    return True


def is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


class Findings:
    """Collects diagnostics about one resource; paths are relative to the resource's spec."""

    __slots__ = ("diagnostics", "resource")

    def __init__(self, resource: Resource) -> None:
        self.resource = resource
        self.diagnostics: list[Diagnostic] = []

    def add(
        self, code: str, path: FieldPath, message: str, *, severity: Severity | None = None
    ) -> None:
        self.diagnostics.append(at_spec(code, self.resource, path, message, severity=severity))

    def add_at_root(
        self, code: str, path: FieldPath, message: str, *, severity: Severity | None = None
    ) -> None:
        """Like :meth:`add` with ``path`` from the document root (``name``, ``labels``)."""
        self.diagnostics.append(at_resource(code, self.resource, path, message, severity=severity))

    def extend(self, diags: Sequence[Diagnostic]) -> None:
        self.diagnostics.extend(diags)

    def merge_renamed(self, found: Findings, real: str, kuma: str) -> None:
        """Take ``found``'s diagnostics, their field written as Kuma writes it.

        Some Kuma validators name a field differently from the YAML (``config`` for a
        backend's ``conf``, ``transparentProxing``): the position stays on the real field,
        the ``field`` text is Kuma's, so both Kuma's users and editors find it.
        """
        for diag in found.diagnostics:
            field = (diag.field or "").replace(real, kuma, 1)
            self.diagnostics.append(replace(diag, field=field))
