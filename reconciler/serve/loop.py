"""The reconcile loop: source revision -> analyze -> compile -> snapshots -> publish.

Contract (used by ``cli/serve.py`` and by sources that follow a Git branch):

* :class:`Reconciler` takes any :class:`~reconciler.source.Source` and an injected
  ``compile`` callable (serve never imports the compiler), so a new kind of source or a new
  compiler slots in without touching this module.
* A revision is transactional: any error diagnostic, compile failure or inconsistent
  snapshot publishes nothing, and the last applied revision keeps serving. Status records
  ``lastAttemptedRevision``, ``lastAppliedRevision`` and ``lastError`` with its diagnostics.
* :meth:`Reconciler.trigger` asks for a poll now (webhooks, SIGHUP, file watches);
  :meth:`Reconciler.apply` publishes a given revision (rollback, tests).
* Fetching, analysis, compilation and serialization run in a worker thread; only the
  publish itself runs on the event loop, between two ADS events.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler import codes
from reconciler.diagnostics import Diagnostic
from reconciler.errors import CompileError, SourceError
from reconciler.load import SourceFile
from reconciler.pipeline import Analysis, analyze, collector_paused
from reconciler.resource_types import ProxyConfig
from reconciler.serve.metrics import Metrics
from reconciler.snapshot import SnapshotCache, build_snapshots
from reconciler.source import Revision, Source

log = logging.getLogger("reconciler.serve")


@dataclass(frozen=True, slots=True)
class Compiled:
    configs: Mapping[str, ProxyConfig]
    diagnostics: tuple[Diagnostic, ...] = ()


CompileFn = Callable[[Analysis], Compiled]
AnalyzeFn = Callable[[Sequence[SourceFile], Iterable[Diagnostic]], Analysis]


def default_analyze(files: Sequence[SourceFile], extra: Iterable[Diagnostic]) -> Analysis:
    return analyze(files, extra=extra)


@dataclass(frozen=True, slots=True)
class Outcome:
    revision: str
    applied: bool
    changed: int = 0
    proxies: int = 0
    error: dict[str, Any] | None = None


@dataclass(slots=True)
class LoopState:
    last_attempted: str | None = None
    last_applied: str | None = None
    last_error: dict[str, Any] | None = None
    last_fetch_success: float | None = None
    stale: bool = False
    source_error: str | None = None
    applied_meta: dict[str, str] = field(default_factory=dict)
    journal: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=20))


class Reconciler:
    def __init__(
        self,
        source: Source,
        compile: CompileFn,
        cache: SnapshotCache,
        metrics: Metrics,
        *,
        interval: float | None = 30.0,
        analyze: AnalyzeFn = default_analyze,
    ) -> None:
        self.source = source
        self.compile = compile
        self.cache = cache
        self.metrics = metrics
        self.interval = interval
        self.analyze = analyze
        self.state = LoopState()
        self._trigger = asyncio.Event()
        self._lock = asyncio.Lock()

    def trigger(self) -> None:
        """Poll the source now (safe from the loop thread and signal handlers)."""
        self._trigger.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Reconcile now, then on every trigger or interval (±10 % jitter) until ``stop``."""
        while not stop.is_set():
            try:
                await self.reconcile()
            except Exception:
                log.exception("reconcile failed unexpectedly; the last snapshot keeps serving")
            delay = None if self.interval is None else self.interval * random.uniform(0.9, 1.1)
            waiters = {
                asyncio.ensure_future(self._trigger.wait()),
                asyncio.ensure_future(stop.wait()),
            }
            _done, pending = await asyncio.wait(
                waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED
            )
            for task in pending:
                task.cancel()
            self._trigger.clear()

    async def reconcile(self) -> Outcome | None:
        """Fetch the source; apply the revision if it is new. None if nothing changed."""
        try:
            revision = await asyncio.to_thread(self.source.fetch)
        except SourceError as exc:
            self.state.stale = True
            self.state.source_error = str(exc)
            log.warning("source unavailable, keeping the last snapshot: %s", exc)
            return None
        self.state.last_fetch_success = time.time()
        self.state.stale = False
        self.state.source_error = None
        if revision.id == self.state.last_attempted:
            return None
        return await self.apply(revision)

    async def apply(self, revision: Revision) -> Outcome:
        """Analyze, compile and publish ``revision`` (also for a rollback to an older one)."""
        async with self._lock:
            self.state.last_attempted = revision.id
            started = time.monotonic()
            try:
                snapshots, error = await asyncio.to_thread(self._build, revision)
            except CompileError as exc:
                snapshots, error = {}, _error(codes.COMPILE_FAILED, str(exc), ())
            self.metrics.compile_seconds.observe(time.monotonic() - started)
            if error is not None:
                self.state.last_error = error
                self.metrics.reconciles.labels("rejected").inc()
                log.error("revision %s not published: %s", revision.short_id, error["message"])
                for diag in error["diagnostics"]:
                    log.error("  %s", diag.get("text") or diag["message"])
                return Outcome(revision.id, False, error=error)
            result = self.cache.publish(snapshots)
            self.state.last_applied = revision.id
            self.state.last_error = None
            self.state.applied_meta = dict(revision.meta)
            self.state.journal.appendleft(
                {"revision": revision.id, "time": time.time(), "changed": len(result.changed)}
            )
            self.metrics.reconciles.labels("applied").inc()
            log.info(
                "revision %s applied: %d proxies, %d changed, %d removed",
                revision.short_id,
                len(snapshots),
                len(result.changed),
                len(result.removed),
            )
            return Outcome(revision.id, True, len(result.changed), len(snapshots))

    def _build(self, revision: Revision) -> tuple[dict[str, Any], dict[str, Any] | None]:
        with collector_paused():  # analysis, compile and snapshots only allocate
            return self._build_paused(revision)

    def _build_paused(self, revision: Revision) -> tuple[dict[str, Any], dict[str, Any] | None]:
        analysis = self.analyze(revision.files, revision.diagnostics)
        if not analysis.ok:
            return {}, _error(
                codes.REVISION_REJECTED,
                f"revision {revision.short_id} has errors; nothing was published",
                analysis.diagnostics,
            )
        compiled = self.compile(analysis)
        if any(d.severity == "error" for d in compiled.diagnostics):
            return {}, _error(
                codes.COMPILE_FAILED,
                f"revision {revision.short_id} could not be compiled",
                compiled.diagnostics,
            )
        snapshots, problems = self.build_snapshots(compiled.configs, revision)
        if problems:
            return {}, {
                "code": codes.SNAPSHOT_INCONSISTENT,
                "message": f"revision {revision.short_id}: inconsistent configuration, "
                "nothing was published",
                "diagnostics": [
                    {"code": codes.SNAPSHOT_INCONSISTENT, "severity": "error", "message": str(p)}
                    for p in problems
                ],
            }
        return dict(snapshots), None

    def build_snapshots(
        self, configs: Mapping[str, ProxyConfig], revision: Revision
    ) -> tuple[Mapping[str, Any], list[Any]]:
        """Snapshots of ``configs`` or problems (a hook: subclasses may reuse unchanged ones)."""
        return build_snapshots(configs, self.cache.interner)

    def introduced_by(self, version: str) -> str | None:
        """The revision that first served ``version`` (None: this loop keeps no record)."""
        return None

    def status_json(self) -> dict[str, Any]:
        state = self.state
        return {
            "lastAttemptedRevision": state.last_attempted,
            "lastAppliedRevision": state.last_applied,
            "lastError": state.last_error,
            "source": {
                **self.source.describe(),
                "lastSuccessTime": state.last_fetch_success,
                "stale": state.stale,
                "error": state.source_error,
            },
            "journal": list(state.journal),
        }


def _error(code: str, message: str, diagnostics: Iterable[Diagnostic]) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "diagnostics": [
            {**d.to_json(), "text": d.format_text()} for d in diagnostics if d.severity == "error"
        ],
    }
