"""Colour for a terminal: severities, diff actions and the summary line; none when piped.

The convention of most CLIs (https://no-color.org, https://force-color.org): ``NO_COLOR`` set
to anything non-empty turns colour off; ``FORCE_COLOR`` (non-empty, not ``0``) turns it on
for a pipe (CI logs that render ANSI); otherwise colour only on a terminal that is not
``TERM=dumb``. Colour is added to finished text, so every output without it is unchanged.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TextIO

RESET = "\x1b[0m"
STYLES = {
    "error": "\x1b[1;31m",
    "warning": "\x1b[1;33m",
    "info": "\x1b[36m",
    "created": "\x1b[32m",
    "configured": "\x1b[33m",
    "deleted": "\x1b[31m",
    "ok": "\x1b[1;32m",
    "failed": "\x1b[1;31m",
}

_SEVERITY = re.compile(r"(?<=: )(error|warning|info)(?=\[RC\d{3}\])|^(warning|error)(?=: )", re.M)
_ACTION = re.compile(r"^(\s+)(created|configured|deleted)(?=\s)", re.M)
_SUMMARY = re.compile(r"^(ok|failed)(?=: )", re.M)


def wants_colour(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR", "0") not in ("", "0"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and env.get("TERM") != "dumb"


def _style(word: str) -> str:
    return f"{STYLES[word]}{word}{RESET}"


def paint(text: str, enabled: bool) -> str:
    """``text`` with severities, diff actions and ok/failed coloured (unchanged if not
    ``enabled``)."""
    if not enabled:
        return text
    text = _SEVERITY.sub(lambda m: _style(m.group(0)), text)
    text = _ACTION.sub(lambda m: m.group(1) + _style(m.group(2)), text)
    return _SUMMARY.sub(lambda m: _style(m.group(0)), text)


def write(stream: TextIO, text: str, *, plain: bool = False) -> None:
    """Write ``text`` to ``stream``, coloured if the stream and the environment want it
    (never when ``plain``: machine formats such as JSON)."""
    stream.write(paint(text, not plain and wants_colour(stream)))
