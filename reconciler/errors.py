"""One exception tree for the whole project.

Foreign exceptions (subprocess, git, grpc, yaml) are translated at the stage boundary with
``raise ... from exc``. Each error says whether retrying the same operation can help: a
fetch that timed out can succeed later, an invalid commit cannot until a new one arrives.
"""

from __future__ import annotations

from typing import Any


class ReconcilerError(Exception):
    """Base of every error the project raises on purpose."""

    retryable: bool = False

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UsageError(ReconcilerError):
    """The command line asks for something impossible (bad flag value, unreadable path)."""


class SourceError(ReconcilerError):
    """A source (directory, git repository) could not be read."""

    retryable = True


class CompileError(ReconcilerError):
    """A valid mesh could not be compiled into Envoy configuration."""


class PolicyError(CompileError):
    """A part of one policy cannot be compiled: the diagnostic points at that part.

    ``resource`` is the policy (a ``model.Resource``), ``path`` the absolute field path of the
    part, ``code`` the diagnostic code.
    """

    def __init__(self, message: str, *, resource: Any, path: tuple[str | int, ...], code: str):
        super().__init__(message)
        self.resource = resource
        self.path = path
        self.code = code


class ServeError(ReconcilerError):
    """The xDS or HTTP server could not start or serve."""

    retryable = True
