"""Process exit codes, the same for every subcommand."""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    OK = 0
    FINDINGS = 1
    """Diagnostics at or above ``--fail-on``; for ``diff``: there are changes."""
    USAGE = 2
    """Bad arguments, a path that cannot be read; for ``diff``: invalid input."""
    INTERNAL = 3
    """A bug: prints 'please report'; the traceback only with ``--debug``."""
    INTERRUPTED = 130
