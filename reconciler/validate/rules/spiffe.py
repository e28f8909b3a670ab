"""SPIFFE IDs as Kuma parses them: go-spiffe v2 ``spiffeid.FromString``.

Kuma's ``ValidateMatch`` parses every ``spiffeID.value`` (``Exact`` and ``Prefix`` alike)
with it and reports ``must be a valid Spiffe ID: <error>``. The trust domain is lowercase
letters, digits, '.', '-' and '_'; path segments are letters, digits, '.', '-' and '_', not
empty, not "." or "..", and the path does not end with '/'.
"""

from __future__ import annotations

SCHEME = "spiffe://"
_TRUST_DOMAIN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-_")
_SEGMENT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")


def spiffe_id_problem(value: str) -> str | None:
    """go-spiffe's error for ``value``, or None when it is a valid SPIFFE ID."""
    if value == "":
        return "cannot be empty"
    if not value.startswith(SCHEME):
        return "scheme is missing or invalid"
    rest = value[len(SCHEME) :]
    slash = rest.find("/")
    trust_domain = rest if slash < 0 else rest[:slash]
    if any(c not in _TRUST_DOMAIN_CHARS for c in trust_domain):
        return (
            "trust domain characters are limited to lowercase letters, numbers, dots, "
            "dashes, and underscores"
        )
    if trust_domain == "":
        return "trust domain is missing"
    return _path_problem("" if slash < 0 else rest[slash:])


def _path_problem(path: str) -> str | None:
    if path == "":
        return None
    segments = path.split("/")[1:]
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == "":
            return (
                "path cannot have a trailing slash"
                if last
                else ("path cannot contain empty segments")
            )
        if any(c not in _SEGMENT_CHARS for c in segment):
            return (
                "path segment characters are limited to letters, numbers, dots, dashes, "
                "and underscores"
            )
        if segment in (".", ".."):
            return "path cannot contain dot segments"
    return None
