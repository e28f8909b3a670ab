"""The action's inputs, read from the ``RECONCILER_*`` variables action.yml sets via ``env:``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.diagnostics import FAIL_ON
from reconciler.errors import UsageError

GITHUB_ANNOTATION_CAP = 10
"""GitHub shows at most 10 error and 10 warning annotations per step."""
COMPILE_SCOPES = ("reached", "all")


@dataclass(frozen=True, slots=True)
class ActionInputs:
    path: str = "."
    base_ref: str = ""
    fail_on: str = "error"
    comment: bool = False
    sarif_file: str = ""
    max_annotations: int = GITHUB_ANNOTATION_CAP
    compile: str = "reached"
    """``reached``: compile only the proxies the change can reach, on both sides; ``all``:
    every proxy of both sides (RC5xx diagnostics of every proxy, slower)."""


def _bool(name: str, raw: str) -> bool:
    if raw in ("true", "True", "TRUE"):
        return True
    if raw in ("false", "False", "FALSE", ""):
        return False
    raise UsageError(f"input {name} must be true or false, not {raw!r}")


def read_inputs(env: Mapping[str, str] | None = None) -> ActionInputs:
    env = os.environ if env is None else env
    fail_on = env.get("RECONCILER_FAIL_ON", "error").strip() or "error"
    if fail_on not in FAIL_ON:
        raise UsageError(f"input fail-on must be one of {', '.join(FAIL_ON)}, not {fail_on!r}")
    raw_max = env.get("RECONCILER_MAX_ANNOTATIONS", "").strip() or str(GITHUB_ANNOTATION_CAP)
    try:
        max_annotations = int(raw_max)
    except ValueError:
        raise UsageError(f"input max-annotations must be a number, not {raw_max!r}") from None
    if max_annotations < 0:
        raise UsageError("input max-annotations must be 0 or more")
    compile_scope = env.get("RECONCILER_COMPILE", "").strip() or "reached"
    if compile_scope not in COMPILE_SCOPES:
        raise UsageError(
            f"input compile must be one of {', '.join(COMPILE_SCOPES)}, not {compile_scope!r}"
        )
    return ActionInputs(
        path=env.get("RECONCILER_PATH", ".").strip() or ".",
        base_ref=env.get("RECONCILER_BASE_REF", "").strip(),
        fail_on=fail_on,
        comment=_bool("comment", env.get("RECONCILER_COMMENT", "false").strip()),
        sarif_file=env.get("RECONCILER_SARIF_FILE", "").strip(),
        max_annotations=max_annotations,
        compile=compile_scope,
    )
