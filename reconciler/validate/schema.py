"""JSON Schema validation of one resource against ``schemas/<Kind>.schema.json``.

Input: a loaded :class:`Resource`. Output: every schema problem of it as RC2xx diagnostics,
each at the path of the offending node. Never raises for bad input.

Speed: a compiled yes/no predicate (``schema_predicate``) answers first; ``jsonschema`` (with
format checking) runs only for resources the predicate rejects, to explain every error. Both
are built lazily per kind and cached, so importing this module costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.diagnostics import Diagnostic, at_resource
from reconciler.kinds import KNOWN_KINDS
from reconciler.model import Resource
from reconciler.validate.schema_errors import diagnose
from reconciler.validate.schema_files import load_schema
from reconciler.validate.schema_predicate import (
    Predicate,
    UnsupportedSchema,
    compile_predicate,
    is_date_time,
)

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

_PREDICATES: dict[str, Predicate | None] = {}
_VALIDATORS: dict[str, Validator] = {}


def check_schema(resource: Resource) -> list[Diagnostic]:
    """All schema diagnostics of ``resource`` (empty when it is valid or of an unknown kind)."""
    if resource.kind not in KNOWN_KINDS:
        return []  # the loader already reported the unknown type
    predicate = predicate_for(resource.kind)
    if predicate is not None and predicate(resource.data):
        return []
    diags: list[Diagnostic] = []
    seen: set[tuple[str, tuple[str | int, ...], str]] = set()
    for error in validator_for(resource.kind).iter_errors(resource.data):
        for code, path, message in diagnose(error):
            if (code, path, message) not in seen:
                seen.add((code, path, message))
                diags.append(at_resource(code, resource, path, message))
    return diags


def predicate_for(kind: str) -> Predicate | None:
    """The fast predicate of ``kind``, or None if its schema needs full ``jsonschema``."""
    if kind not in _PREDICATES:
        try:
            _PREDICATES[kind] = compile_predicate(load_schema(kind))
        except UnsupportedSchema:
            _PREDICATES[kind] = None
    return _PREDICATES[kind]


def validator_for(kind: str) -> Validator:
    """The precompiled draft 2020-12 validator of ``kind`` (format checking on), cached."""
    validator = _VALIDATORS.get(kind)
    if validator is None:
        from jsonschema import Draft202012Validator  # lazy: keeps `reconciler --help` fast

        validator = Draft202012Validator(load_schema(kind), format_checker=_format_checker())
        _VALIDATORS[kind] = validator
    return validator


def _format_checker() -> Any:
    from jsonschema import Draft202012Validator, FormatChecker

    checker = FormatChecker(formats=Draft202012Validator.FORMAT_CHECKER.checkers)
    # `date-time` is only checked when an optional package is installed; check it always,
    # with the same test as the fast predicate, so results never depend on the environment.
    checker.checks("date-time")(lambda v: not isinstance(v, str) or is_date_time(v))
    return checker
