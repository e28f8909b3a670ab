"""The Envoy configuration a ProxyTemplate carries as YAML text, checked on plain data.

Kuma turns the YAML into JSON and reads it into the Envoy message the place expects
(``ValidateResourceYAML``; raw resources are an ``Any`` naming their type in ``@type``).
Validation here works on plain data (DESIGN: only the compiler loads Envoy's protos), so
it checks what needs no protos: the text is YAML, it is a mapping, a raw resource names
its type, and no ``@type`` names Envoy's v2 API, which Kuma 2.14 no longer knows. The
fields of the Envoy message itself are not checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import yaml

OPERATION_KINDS = ("cluster", "listener", "networkFilter", "httpFilter", "virtualHost")
"""The modification kinds of Kuma's ``ProxyTemplate_Modifications`` oneof, in its order."""
V2_PACKAGE = re.compile(r"^envoy\.(api\.v2|config\.filter)\b|\.v2(alpha\d*)?(\.|$)")
"""Envoy v2 API packages, which Kuma 2.14 (go-control-plane, v3 only) does not know."""


def _type_urls(value: Any) -> Iterator[str]:
    """Every ``@type`` in a document (an ``Any`` may nest others in ``typedConfig``)."""
    if isinstance(value, dict):
        url = value.get("@type")
        if isinstance(url, str):
            yield url
        for item in value.values():
            yield from _type_urls(item)
    elif isinstance(value, list):
        for item in value:
            yield from _type_urls(item)


def problem(text: str, *, raw: bool) -> str | None:
    """Why ``text`` is not a valid Envoy value (``raw``: an ``Any``), or None."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or "cannot be parsed"
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        return f"invalid YAML: {problem}{where}"
    if not isinstance(document, dict):
        return "the resource must be a YAML mapping"
    if raw and "@type" not in document:
        return "the resource must name its type in '@type'"
    for url in _type_urls(document):
        name = url.rpartition("/")[2]
        if name.startswith("envoy.") and V2_PACKAGE.search(name.rpartition(".")[0]):
            return f'unable to resolve "{url}": "not found"'
    return None
