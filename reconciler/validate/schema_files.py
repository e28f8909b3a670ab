"""Access to the JSON Schemas shipped in the package (``reconciler/schemas``)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


def schema_text(kind: str) -> str:
    return (resources.files("reconciler") / "schemas" / f"{kind}.schema.json").read_text("utf-8")


@cache
def load_schema(kind: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(schema_text(kind))
    return data
