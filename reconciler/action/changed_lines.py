"""Lines a pull request changed, from the file contents of both sides (no ``git diff``)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from reconciler.load import SourceFile

ChangedLines = dict[str, set[int] | None]
"""Path -> changed 1-based line numbers of the new file; None means the whole file is new."""


def changed_lines(base: Iterable[SourceFile], head: Iterable[SourceFile]) -> ChangedLines:
    old = {f.path: f for f in base}
    out: ChangedLines = {}
    for new in head:
        was = old.get(new.path)
        if was is None:
            out[new.path] = None
        elif was.digest != new.digest:
            out[new.path] = _lines(was.data, new.data)
    return out


def _lines(old: bytes, new: bytes) -> set[int]:
    a = old.decode("utf-8", "replace").splitlines()
    b = new.decode("utf-8", "replace").splitlines()
    lines: set[int] = set()
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "insert"):
            lines.update(range(j1 + 1, j2 + 1))
    return lines


def on_changed_line(changed: ChangedLines, file: str | None, line: int | None) -> bool:
    if file is None or file not in changed:
        return False
    lines = changed[file]
    return lines is None or line is None or line in lines
