"""The diagnostics model: every problem any stage finds, in one shape.

Contract:

* A :class:`Diagnostic` names a stable code (``RC1xx`` YAML, ``RC2xx`` schema, ``RC3xx``
  semantic, ``RC4xx`` cross-resource, ``RC5xx`` compile, ``RC6xx`` serve/source; the table
  lives in :mod:`reconciler.codes`), a severity, a message, and where: file, 1-based line and
  column, a Kuma-style field path and the resource, each None when unknown.
* Validators collect, they never raise for bad input: each returns a list of diagnostics.
* :func:`sort_key` gives the one order every output uses: file, line, column, code.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.codes import CODES
from reconciler.codes import Severity as Severity  # part of the diagnostics model
from reconciler.model import FieldPath, Position, Resource, ResourceKey, format_path


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    file: str | None = None
    line: int | None = None
    col: int | None = None
    field: str | None = None
    resource: ResourceKey | None = None

    @property
    def refuses_serving(self) -> bool:
        """True if `serve` must not publish a revision with this finding: an error, or a
        finding Kuma accepts but Envoy would reject (its code says so)."""
        if self.severity is Severity.ERROR:
            return True
        info = CODES.get(self.code)
        return info is not None and info.refuses_serving

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "field": self.field,
            "resource": (
                {
                    "type": self.resource.type,
                    "mesh": self.resource.mesh,
                    "name": self.resource.name,
                }
                if self.resource
                else None
            ),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Diagnostic:
        res = raw.get("resource")
        return cls(
            code=raw["code"],
            severity=Severity(raw["severity"]),
            message=raw["message"],
            file=raw.get("file"),
            line=raw.get("line"),
            col=raw.get("col"),
            field=raw.get("field"),
            resource=ResourceKey(res["type"], res["mesh"], res["name"]) if res else None,
        )

    def format_text(self) -> str:
        """GCC style: ``file:line:col: error[CODE] field: message (Kind mesh/name)``."""
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
            if self.col is not None:
                where += f":{self.col}"
        text = f"{where}: {self.severity.value}[{self.code}] "
        if self.field:
            text += f"{self.field}: "
        text += self.message
        if self.resource is not None:
            text += f" ({self.resource})"
        return text


def default_severity(code: str) -> Severity:
    return CODES[code].severity


def at_resource(
    code: str,
    resource: Resource,
    path: FieldPath,
    message: str,
    *,
    severity: Severity | None = None,
) -> Diagnostic:
    """A diagnostic about ``path`` (absolute, from the document root) of ``resource``."""
    pos = resource.locate(path)
    return Diagnostic(
        code=code,
        severity=severity or default_severity(code),
        message=message,
        file=resource.file,
        line=pos.line,
        col=pos.col,
        field=format_path(path) if path else None,
        resource=resource.key,
    )


def at_spec(
    code: str,
    resource: Resource,
    path: FieldPath,
    message: str,
    *,
    severity: Severity | None = None,
) -> Diagnostic:
    """Like :func:`at_resource` with ``path`` relative to the resource's spec."""
    return at_resource(code, resource, resource.spec_path + tuple(path), message, severity=severity)


def at_file(
    code: str,
    file: str | None,
    message: str,
    *,
    line: int | None = None,
    col: int | None = None,
    field: str | None = None,
    resource: ResourceKey | None = None,
    severity: Severity | None = None,
    at: Position | None = None,
) -> Diagnostic:
    """A diagnostic about a file; ``at`` gives line and column at once."""
    if at is not None:
        line, col = at.line, at.col
    return Diagnostic(
        code=code,
        severity=severity or default_severity(code),
        message=message,
        file=file,
        line=line,
        col=col,
        field=field,
        resource=resource,
    )


def sort_key(diag: Diagnostic) -> tuple[str, int, int, str, str, str]:
    """Position, code, message, then field: a total order (ties would follow set order)."""
    return (
        diag.file or "",
        diag.line or 0,
        diag.col or 0,
        diag.code,
        diag.message,
        diag.field or "",
    )


def sorted_diagnostics(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    return sorted(set(diags), key=sort_key)


@dataclass(frozen=True, slots=True)
class Counts:
    errors: int
    warnings: int
    infos: int


def count(diags: Sequence[Diagnostic]) -> Counts:
    errors = sum(1 for d in diags if d.severity is Severity.ERROR)
    warnings = sum(1 for d in diags if d.severity is Severity.WARNING)
    return Counts(errors, warnings, len(diags) - errors - warnings)


def only_errors(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics of severity error, in their order."""
    return [d for d in diags if d.severity is Severity.ERROR]


def refusing_serving(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics that make `serve` refuse a revision: errors, and findings Kuma
    accepts that Envoy would reject (:attr:`Diagnostic.refuses_serving`)."""
    return [d for d in diags if d.refuses_serving]


def has_errors(diags: Iterable[Diagnostic]) -> bool:
    """The one test of "has errors": an error refuses a revision and fails a check."""
    return any(d.severity is Severity.ERROR for d in diags)


FAIL_ON = ("error", "warning", "never")
"""``--fail-on`` (``validate``) and the Action's ``fail-on`` input: the lowest severity that
fails, or never."""


def fails(diags: Iterable[Diagnostic], fail_on: str) -> bool:
    """True when a diagnostic reaches the ``--fail-on`` threshold (one of :data:`FAIL_ON`)."""
    if fail_on == "never":
        return False
    threshold = Severity(fail_on).rank
    return any(d.severity.rank >= threshold for d in diags)
