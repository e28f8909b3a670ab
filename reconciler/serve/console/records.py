"""What the reconcile loop's builder remembers of recent revisions, for the console.

The builder records every revision it builds: refused ones with their rejection (code,
message, every error diagnostic with ``file:line``), published ones with what the pages
need to explain them (the resources, the compiled configuration of every proxy and an
:class:`Explainer` of the compile's traces). Bounded: :data:`KEEP_ATTEMPTS` attempts, and
the heavy part of at most :data:`KEEP_BUILDS` published revisions, bounded by memory too.
An incremental compile hands back the same objects for proxies a commit does not reach, so
successive builds share most of their memory; a mesh-wide change shares nothing, and five
such builds would hold five copies of every proxy's configuration. So builds older than the
previous one (the base of the current revision's diff, always kept) are kept only while the
configurations the builds after the newest hold that a newer build does not
(:func:`_unshared`) add up to no more than one fleet (the proxies of the newest build).

Written from the loop's worker thread, read from the event loop: each update swaps one
reference, so a reader sees a whole record or none.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from reconciler.model import Resource
from reconciler.resource_types import ProxyConfig

KEEP_ATTEMPTS = 20
KEEP_BUILDS = 5


class Explainer(Protocol):
    """Provenance of one compiled revision (``reconciler inspect``'s data), made by the
    injected compile (serve never imports the compiler)."""

    def proxy(self, node_id: str) -> dict[str, Any] | None:
        """``inspect --format json`` of ``node_id``; None if the revision has no such proxy."""
        ...

    def selecting(self) -> Mapping[tuple[str, str, str], tuple[str, ...]]:
        """(kind, mesh, name) of every policy -> node ids its top-level targetRef selects."""
        ...


@dataclass(frozen=True, slots=True)
class Attempt:
    """One revision the loop tried to publish."""

    revision: str
    time: float
    author: str = ""
    message: str = ""
    rejection: Mapping[str, Any] | None = None
    """None: published; else ``{code, message, diagnostics: [...]}`` (``lastError``)."""

    @property
    def applied(self) -> bool:
        return self.rejection is None


@dataclass(frozen=True, slots=True)
class Build:
    """A published revision, as the console explains it."""

    attempt: Attempt
    resources: tuple[Resource, ...]
    configs: Mapping[str, ProxyConfig]
    explain: Explainer | None = None


@dataclass(frozen=True, slots=True)
class _State:
    attempts: tuple[Attempt, ...] = ()
    builds: tuple[Build, ...] = ()


class BuildLog:
    """Newest first; see the module docstring."""

    def __init__(self) -> None:
        self._state = _State()

    def refused(self, revision: str, meta: Mapping[str, str], rejection: Mapping[str, Any]) -> None:
        attempt = _attempt(revision, meta, rejection)
        state = self._state
        self._state = _State((attempt, *state.attempts)[:KEEP_ATTEMPTS], state.builds)

    def published(
        self,
        revision: str,
        meta: Mapping[str, str],
        resources: tuple[Resource, ...],
        configs: Mapping[str, ProxyConfig],
        explain: Explainer | None,
    ) -> None:
        state = self._state
        attempt = _attempt(revision, meta, None)
        build = Build(attempt, resources, dict(configs), explain)
        self._state = _State(
            (attempt, *state.attempts)[:KEEP_ATTEMPTS], _bounded((build, *state.builds))
        )

    def attempts(self) -> tuple[Attempt, ...]:
        return self._state.attempts

    def builds(self) -> tuple[Build, ...]:
        return self._state.builds

    def current(self) -> Build | None:
        builds = self._state.builds
        return builds[0] if builds else None

    def find(self, revision: str) -> tuple[Build, Build | None] | None:
        """The newest build of ``revision`` (a full sha or a prefix) and the build published
        before it (the base of its diff; None for the first one this process published or
        when it is no longer kept)."""
        builds = self._state.builds
        for index, build in enumerate(builds):
            if build.attempt.revision.startswith(revision):
                return build, builds[index + 1] if index + 1 < len(builds) else None
        return None


def _unshared(older: Build, newer: Build) -> int:
    """How many of ``older``'s proxy configurations ``newer`` does not hold as the same object:
    what keeping ``older`` costs once ``newer`` is kept."""
    held = newer.configs
    return sum(1 for node, config in older.configs.items() if held.get(node) is not config)


def _bounded(builds: tuple[Build, ...]) -> tuple[Build, ...]:
    """The newest builds to keep (newest first): at most :data:`KEEP_BUILDS`; the newest two
    always; older ones while the configurations the builds after the newest hold unshared
    total at most one fleet."""
    kept = builds[:2]
    if len(kept) < 2:
        return kept
    budget = len(builds[0].configs) - _unshared(builds[1], builds[0])
    for build in builds[2:KEEP_BUILDS]:
        budget -= _unshared(build, kept[-1])
        if budget < 0:
            break
        kept += (build,)
    return kept


def _attempt(
    revision: str, meta: Mapping[str, str], rejection: Mapping[str, Any] | None
) -> Attempt:
    return Attempt(
        revision, time.time(), meta.get("author", ""), meta.get("message", ""), rejection
    )
