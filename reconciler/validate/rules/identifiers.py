"""Kuma's resource names (``meta_validator.go``): ``validateIdentifier`` and its two patterns.

A resource name is a lowercase RFC 1123 subdomain of at most 253 characters; a mesh name
(as written in other resources) keeps the older, looser character set so that meshes named
before the rule still work.
"""

from __future__ import annotations

import re

from reconciler import codes
from reconciler.model import FieldPath, Resource
from reconciler.validate.rules.findings import Findings

IDENTIFIER = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
IDENTIFIER_MESSAGE = (
    "invalid characters. A lowercase RFC 1123 subdomain must consist of lower case "
    "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
)
BACKWARD_COMPAT = re.compile(r"^[0-9a-z\-_.]*$")
BACKWARD_COMPAT_MESSAGE = (
    "invalid characters. Valid characters are numbers, lowercase latin letters and "
    "'-', '_', '.' symbols."
)
MAX_LENGTH = 253


def identifier_problem(
    value: str, pattern: re.Pattern[str] = IDENTIFIER, message: str = IDENTIFIER_MESSAGE
) -> str | None:
    """Kuma ``validateIdentifier``: the first problem of ``value``, or None."""
    if value == "":
        return "cannot be empty"
    if len(value) > MAX_LENGTH:
        return f"value length must less or equal {MAX_LENGTH}"
    if not pattern.fullmatch(value):
        return message
    return None


def check_identifier(f: Findings, path: FieldPath, value: str) -> None:
    problem = identifier_problem(value)
    if problem is not None:
        f.add(codes.NAME_FORMAT, path, problem)


def check_meta(f: Findings, resource: Resource, *, mesh_scoped: bool) -> None:
    """Kuma ``ValidateMeta``: the resource's name, and the mesh it names (mesh-scoped kinds).

    An empty or missing name is the loader's (RC109); the mesh keeps Kuma's older character
    set, as a Mesh named before the stricter rule must still be usable.
    """
    if resource.name:
        problem = identifier_problem(resource.name)
        if problem is not None:
            f.add_at_root(codes.NAME_FORMAT, ("name",), problem)
    if mesh_scoped and isinstance(resource.mesh, str):
        problem = identifier_problem(resource.mesh, BACKWARD_COMPAT, BACKWARD_COMPAT_MESSAGE)
        if problem is not None:
            f.add_at_root(codes.NAME_FORMAT, ("mesh",), problem)
