"""Regular expressions Kuma accepts but Envoy rejects, found with Envoy's own engine (RE2).

Kuma validates no regular expression: a MeshHTTPRoute path ``RegularExpression`` of
``/api/(unclosed`` is stored, sent, and NACKed by every proxy it reaches. Envoy compiles each
``safe_regex`` with RE2 (default options) and refuses a pattern that does not parse, or whose
compiled program is larger than the ``re2.max_program_size.error_level`` runtime value (100
unless the bootstrap raises it). Every ``{type: RegularExpression, value: ...}`` field of every
kind is checked here (MeshHTTPRoute path, header and query parameter matches, MeshRetry
retriable request and response headers): the finding is a warning, since Kuma accepts the
resource, whose code refuses serving (see :data:`reconciler.codes.REGEX_REJECTED_BY_ENVOY`).
TrafficRoute, MeshGatewayRoute and MeshMetric spell regexes otherwise; none of theirs reaches
Envoy (the first two are not applied, MeshMetric's profile selectors are not compiled).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any

from reconciler import codes
from reconciler.diagnostics import Diagnostic, at_resource
from reconciler.model import FieldPath, Resource

ENVOY_MAX_PROGRAM_SIZE = 100
"""Envoy's default ``re2.max_program_size.error_level``: a larger RE2 program is refused."""

if TYPE_CHECKING:
    import re2


@cache
def _re2() -> tuple[ModuleType, re2.Options]:
    """RE2 and its options, imported when a resource has a regular expression."""
    import re2

    options = re2.Options()
    options.log_errors = False  # RE2 would print every parse error on stderr
    return re2, options


def regex_problem(pattern: str) -> str | None:
    """Why Envoy refuses ``pattern`` (its own wording), or None if Envoy compiles it."""
    re2, options = _re2()
    try:
        compiled = re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
        return f"RE2 cannot compile it: {text}"
    size = int(compiled.programsize)
    if size > ENVOY_MAX_PROGRAM_SIZE:
        return (
            f"its RE2 program size is {size}, above Envoy's limit of {ENVOY_MAX_PROGRAM_SIZE} "
            "(re2.max_program_size.error_level): simplify it (fewer alternatives or repeats)"
        )
    return None


def check(resource: Resource) -> list[Diagnostic]:
    """A diagnostic for every regular expression of ``resource`` that Envoy would refuse."""
    diags: list[Diagnostic] = []
    for path, pattern in regex_fields(resource.data, ()):
        problem = regex_problem(pattern)
        if problem is not None:
            diags.append(
                at_resource(
                    codes.REGEX_REJECTED_BY_ENVOY,
                    resource,
                    path,
                    f"Envoy rejects the regular expression {pattern!r}: {problem}",
                )
            )
    return diags


def regex_fields(value: Any, path: FieldPath) -> Iterator[tuple[FieldPath, str]]:
    """``(path of value, pattern)`` of every ``{type: RegularExpression, value: STR}`` below."""
    if isinstance(value, Mapping):
        pattern = value.get("value")
        if value.get("type") == "RegularExpression" and isinstance(pattern, str):
            yield (*path, "value"), pattern
        for key in value:
            yield from regex_fields(value[key], (*path, str(key)))
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        for i, item in enumerate(value):
            yield from regex_fields(item, (*path, i))
