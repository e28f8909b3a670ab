"""Access to the JSON Schemas: ``schemas/`` at the repository root, shipped in the wheel.

One file per kind, ``<Kind>.schema.json``. :func:`combined_schema` builds the one schema an
editor needs for any resource file: it dispatches on ``type`` to the kind's schema.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

SCHEMA_BASE_URL = "https://reconciler.dev/schemas/"
COMBINED_ID = SCHEMA_BASE_URL + "all.schema.json"


def schema_dir() -> Traversable:
    """The schemas' folder: ``reconciler/schemas`` is a link to the repository's ``schemas/``,
    so a wheel ships copies of those files (one source of truth)."""
    return resources.files("reconciler") / "schemas"


def schema_text(kind: str) -> str:
    return (schema_dir() / f"{kind}.schema.json").read_text("utf-8")


@cache
def load_schema(kind: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(schema_text(kind))
    return data


def combined_schema(kinds: list[str]) -> dict[str, Any]:
    """One schema for a document of any of ``kinds``, chosen by its ``type`` (if/then).

    Each kind's schema is embedded under ``$defs`` (without its own ``$schema``/``$id``, so
    the file stands alone: editors need not fetch anything).
    """
    defs: dict[str, Any] = {}
    branches: list[dict[str, Any]] = []
    for kind in kinds:
        body = {k: v for k, v in load_schema(kind).items() if k not in ("$schema", "$id")}
        defs[kind] = body
        branches.append(
            {
                "if": {"properties": {"type": {"const": kind}}, "required": ["type"]},
                "then": {"$ref": f"#/$defs/{kind}"},
            }
        )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": COMBINED_ID,
        "title": "reconciler resource",
        "description": "Any resource the reconciler reads (Kuma 2.14 universal format); "
        "`type` selects the kind's schema.",
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": {"description": "Kind of the resource.", "enum": list(kinds)},
        },
        "allOf": branches,
        "$defs": defs,
    }


def combined_schema_text(kinds: list[str]) -> str:
    return json.dumps(combined_schema(kinds), indent=2, ensure_ascii=False) + "\n"
