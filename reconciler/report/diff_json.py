"""A ChangeSet as JSON: ``ChangeSet.to_json()`` plus the new revision's ``diagnostics``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from reconciler.diagnostics import Diagnostic
from reconciler.diff import ChangeSet


def as_json_data(changes: ChangeSet, diagnostics: Sequence[Diagnostic] = ()) -> dict[str, Any]:
    data = changes.to_json()
    data["diagnostics"] = [d.to_json() for d in diagnostics]
    return data


def as_json(changes: ChangeSet, diagnostics: Sequence[Diagnostic] = ()) -> str:
    return json.dumps(as_json_data(changes, diagnostics), indent=2, ensure_ascii=False) + "\n"
