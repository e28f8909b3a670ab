"""The reconcile loop: source revision -> analyze -> compile -> snapshots -> publish.

One loop, made of parts:

* the **source** (:class:`~reconciler.source.Source`): ``fetch`` the newest revision,
  ``read`` one served before, ``keep`` the journal's revisions readable;
* the **analysis** and compile part (:class:`~reconciler.serve.build.RevisionBuilder`, with
  an injected ``compile``: serve never imports the compiler);
* the **journal** (optional): restart recovery (the pinned or last applied revision is read
  from the source's local cache and served before the first fetch), the last N applied
  revisions, which commit introduced each served version (versions are content hashes,
  equal on every replica; ``/status`` shows the commit beside them);
* the **holds** (:class:`~reconciler.serve.holds.Holds`): the local pin (``reconciler
  rollback --to SHA``) and the fleet control (a git source's control ref), whose revision is
  served instead of the branch head while they hold one;
* the **backoff**: a failed fetch retries after a capped, jittered backoff instead of the
  interval; status and metrics give the reason and the staleness.

Contract (used by ``cli/serve.py``):

* A revision is transactional: any error diagnostic, compile failure or inconsistent
  snapshot publishes nothing, and the last applied revision keeps serving. Status records
  ``lastAttemptedRevision``, ``lastAppliedRevision`` and ``lastError`` with its diagnostics.
* :meth:`Reconciler.trigger` asks for a poll now (webhooks, SIGHUP, file watches);
  :meth:`Reconciler.apply` publishes a given revision (rollback, tests);
  :meth:`Reconciler.rebuild` builds the current revision again (certificates are due).
* Fetching, analysis, compilation and serialization run in a worker thread; only the
  publish itself runs on the event loop, between two ADS events.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reconciler import codes
from reconciler.errors import CompileError, SourceError
from reconciler.journal import Journal, Pin
from reconciler.serve.analysis_cache import RevisionAnalyzer
from reconciler.serve.build import CompileFn, Rejection, RevisionBuilder, rejection
from reconciler.serve.events import NO_EVENTS, EventSink
from reconciler.serve.history import record_applied, start_revision
from reconciler.serve.holds import Holds
from reconciler.serve.metrics import Metrics, SourceMetrics
from reconciler.snapshot import SnapshotCache
from reconciler.source import Revision, Source
from reconciler.source.backoff import Backoff, jittered
from reconciler.source.control import Control, Controlled
from reconciler.source.git_errors import GitSourceError, SourceReason, reason_code

log = logging.getLogger("reconciler.serve")

PERSIST_EVERY_S = 60.0
"""The analysis cache is written after the first publish, then at most this often."""
PERSIST_DELAY_S = 2.0
"""How long after a publish that write starts (the push to the proxies goes first)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    revision: str
    applied: bool
    changed: int = 0
    proxies: int = 0
    error: Rejection | None = None
    generation_s: float = 0.0
    """Load, validate, compile and snapshot (seconds)."""
    publish_s: float = 0.0
    """Publishing the snapshots to the cache and the streams (seconds)."""


@dataclass(slots=True)
class LoopState:
    last_attempted: str | None = None
    last_applied: str | None = None
    last_error: Rejection | None = None
    last_fetch_success: float | None = None
    stale: bool = False
    source_error: str | None = None
    source_reason: str | None = None
    applied: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=20))
    """The revisions this process applied, newest first (``journal`` in status)."""


class Reconciler:
    def __init__(
        self,
        source: Source,
        compile: CompileFn,
        cache: SnapshotCache,
        metrics: Metrics,
        *,
        journal: Journal | None = None,
        interval: float | None = 30.0,
        backoff: Backoff | None = None,
        analysis_cache: bool = True,
        allow_empty: bool = False,
        control: Controlled | None = None,
    ) -> None:
        self.source = source
        self.control = control
        self.cache = cache
        self.metrics = metrics
        self.journal = journal
        self.interval = interval
        cached = journal.dir / "analysis" if journal is not None and analysis_cache else None
        self.analyzer = RevisionAnalyzer(cached)
        self.builder = RevisionBuilder(
            self.analyzer, compile, cache.interner, allow_empty=allow_empty
        )
        cap = max(300.0, interval or 0.0)
        self.backoff = backoff or Backoff(base_s=min(5.0, interval or 5.0), cap_s=cap)
        self.source_metrics = SourceMetrics(metrics)
        self.state = LoopState()
        self.holds = Holds(journal, control)
        """The local pin and the fleet control: what is served instead of the branch head."""
        self.restored: str | None = None
        """The revision served from the journal at start, before any fetch."""
        self.drift_fn: Callable[[], list[dict[str, Any]]] | None = None
        """Set by :class:`~reconciler.serve.following.Following`: proxies whose ACKed
        versions differ from the snapshot."""
        self.events: EventSink = NO_EVENTS
        """Where revision outcomes are announced (``serve --notify``); never blocks."""
        self._trigger = asyncio.Event()
        self._expected: str | None = None
        self._lock = asyncio.Lock()
        self._persisting: asyncio.Future[None] | None = None
        self._persisted_at: float | None = None
        self._persist_writing = False

    def trigger(self, expected: str | None = None) -> None:
        """Poll the source now (safe from the loop thread and signal handlers).

        ``expected``: the revision a signed push event announced (``after``); the source
        may then fetch it without first asking where the branch points."""
        if expected is not None:
            self._expected = expected
        self._trigger.set()

    def rebuild(self) -> None:
        """Build the current revision again (certificates are due): same commit, new secrets.

        Also while a revision is pinned (rollback): certificates must be renewed whatever
        revision is served, or the mesh would stop when they expire.
        """
        self.state.last_attempted = None
        if self.holds.pin is not None or self.holds.held() is not None:
            self.state.last_applied = None
        self.trigger()

    # -- the loop -----------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Restore, reconcile now, then on every trigger, interval (±10 % jitter) or
        backoff delay after a failed fetch, until ``stop``."""
        try:
            await self.restore()
            while not stop.is_set():
                failed = False
                try:
                    await self.reconcile()
                    failed = self.state.stale
                except Exception as exc:  # a bug: say it in one line, the traceback in debug
                    log.error(
                        "reconcile failed unexpectedly (%s: %s); %s; please report this",
                        type(exc).__name__,
                        exc,
                        self._what_serves(),
                        exc_info=log.isEnabledFor(logging.DEBUG),
                    )
                if failed:
                    delay: float | None = self.backoff.next_delay()
                else:
                    self.backoff.reset()
                    delay = None if self.interval is None else jittered(self.interval)
                await self._wait(stop, delay)
        finally:
            if self._persisting is not None and not self._persist_writing:
                self._persisting.cancel()  # still waiting: the write below does it
            self.analyzer.persist()  # a restart starts with every file analysed

    async def _wait(self, stop: asyncio.Event, delay: float | None) -> None:
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

    async def restore(self) -> Outcome | None:
        """Serve the pinned or last applied revision from the source's cache (no network)."""
        sha = start_revision(self.journal) if self.journal is not None else None
        if sha is None:
            return None
        try:
            revision = await asyncio.to_thread(self.source.read, sha)
        except SourceError as exc:
            log.warning("cannot restore revision %s from the cache: %s", sha[:8], exc)
            return None
        if revision is None:
            return None
        outcome = await self.apply(revision, trigger="restart: served from the state directory")
        if outcome.applied:
            self.restored = sha
            log.info("restored revision %s from the state directory", sha[:8])
        return outcome

    # -- one tick -------------------------------------------------------------------------
    async def reconcile(self) -> Outcome | None:
        """Serve the local pin; else fetch the source, read the fleet control, and serve the
        revision the control holds or the fetched one if it is new. None if nothing changed."""
        pin = self.holds.read_pin()
        if pin is not None:
            self.source_metrics.pinned.set(1)
            return await self._serve_pin(pin)
        expected, self._expected = self._expected, None
        try:
            revision: Revision | None = (
                await asyncio.to_thread(self.source.fetch, expected)
                if expected is not None
                else await asyncio.to_thread(self.source.fetch)
            )
            failure: SourceError | None = None
        except SourceError as exc:
            revision, failure = None, exc
        held = await self.holds.read_control()
        self.source_metrics.pinned.set(1 if held else 0)
        if revision is None:
            assert failure is not None
            self._fetch_failed(failure)
            return await self._serve_held(held) if held is not None else None
        now = time.time()
        self.state.last_fetch_success = now
        self.state.stale = False
        self.state.source_error = None
        self.state.source_reason = None
        self.source_metrics.last_success.set(now)
        if held is not None:
            return await self._serve_held(held)
        resumed = self.holds.take_resumed()
        if revision.id == self.state.last_attempted:
            return None
        branch = revision.meta.get("branch")
        trigger = resumed.describe() if resumed else (f"branch {branch}" if branch else "source")
        return await self.apply(revision, trigger=trigger)

    def _fetch_failed(self, exc: SourceError) -> None:
        reason = exc.reason if isinstance(exc, GitSourceError) else SourceReason.UNREACHABLE
        self.state.stale = True
        self.state.source_error = str(exc)
        self.state.source_reason = str(reason)
        self.source_metrics.errors.labels(str(reason)).inc()
        log.warning("source unavailable (%s): %s; %s", reason, exc, self._what_serves())

    async def _serve_held(self, control: Control) -> Outcome | None:
        """Serve the revision a fleet pause or rollback holds (fetched by id if needed)."""
        sha = control.revision
        assert sha is not None
        if self.state.last_applied == sha or self.state.last_attempted == sha:
            return None
        assert self.control is not None
        try:
            revision = await asyncio.to_thread(self.control.fetch_revision, sha)
        except SourceError as exc:
            self.state.source_error = f"cannot read held revision {sha[:8]}: {exc}"
            log.warning("%s", self.state.source_error)
            return None
        return await self.apply(revision, trigger=control.describe())

    async def _serve_pin(self, pin: Pin) -> Outcome | None:
        if self.state.last_applied == pin.sha or self.state.last_attempted == pin.sha:
            return None
        try:
            revision = await asyncio.to_thread(self.source.read, pin.sha)
        except SourceError as exc:
            self.state.source_error = f"cannot read pinned revision {pin.sha[:8]}: {exc}"
            return None
        if revision is None:
            return None
        why = f": {pin.reason}" if pin.reason else ""
        return await self.apply(revision, trigger=f"local pin{why}")

    async def apply(self, revision: Revision, *, trigger: str = "") -> Outcome:
        """Analyze, compile and publish ``revision`` (also for a rollback to an older one);
        ``trigger`` says who or what asked for it (history)."""
        before = self._contents()
        outcome = await self._publish(revision, trigger)
        self.events.revision(revision, outcome)
        if outcome.applied:
            self.source_metrics.last_applied.set(time.time())
            recorded = time.monotonic()
            if self.journal is not None:
                await asyncio.to_thread(
                    record_applied,
                    self.journal,
                    self.source,
                    revision,
                    before,
                    self._contents(),
                    self.cache.versions(),
                    trigger,
                )
            self.metrics.revision.applied(
                generation=outcome.generation_s,
                apply=outcome.publish_s + time.monotonic() - recorded,
            )
        self._persist_soon()
        return outcome

    async def _publish(self, revision: Revision, trigger: str) -> Outcome:
        async with self._lock:
            self.state.last_attempted = revision.id
            started = time.monotonic()
            try:
                snapshots, error = await asyncio.to_thread(self.builder.build, revision)
            except CompileError as exc:
                snapshots, error = {}, rejection(codes.COMPILE_FAILED, str(exc), ())
            generated = time.monotonic()
            self.metrics.compile_seconds.observe(generated - started)
            if error is not None:
                self.state.last_error = error
                self.metrics.reconciles.labels("rejected").inc()
                log.error(
                    "revision %s not published: %s",
                    revision.short_id,
                    error["message"],
                    extra={"revision": revision.id, "code": error.get("code")},
                )
                for diag in error["diagnostics"]:
                    log.error("  %s", diag.get("text") or diag["message"])
                return Outcome(revision.id, False, error=error)
            result = self.cache.publish(snapshots)
            self.metrics.revision.published(revision.id, revision.meta)
            self.state.last_applied = revision.id
            self.state.last_error = None
            self.state.applied.appendleft(
                {
                    "revision": revision.id,
                    "time": time.time(),
                    "changed": len(result.changed),
                    "trigger": trigger,
                }
            )
            self.metrics.reconciles.labels("applied").inc()
            published = time.monotonic()
            log.info(
                "revision %s applied: %d proxies, %d changed, %d removed",
                revision.short_id,
                len(snapshots),
                len(result.changed),
                len(result.removed),
                extra={
                    "revision": revision.id,
                    "proxies": len(snapshots),
                    "changed": len(result.changed),
                    "removed": len(result.removed),
                    "generation_s": round(generated - started, 6),
                },
            )
            return Outcome(
                revision.id,
                True,
                len(result.changed),
                len(snapshots),
                generation_s=generated - started,
                publish_s=published - generated,
            )

    def _what_serves(self) -> str:
        if self.state.last_applied is None:
            return "nothing has been applied yet (not ready); retrying"
        return f"revision {self.state.last_applied[:8]} keeps serving; retrying"

    def waiting_for(self) -> str | None:
        """Why no revision is served yet (None once one is): what ``/readyz`` says."""
        if self.state.last_applied is not None:
            return None
        if self.state.last_error is not None:
            return str(self.state.last_error.get("message"))
        if self.state.source_error is not None:
            return f"source unavailable: {self.state.source_error}"
        return "waiting for the first revision"

    def _contents(self) -> dict[str, str]:
        return {n: s.content for n in self.cache.node_ids() if (s := self.cache.get(n))}

    def _persist_soon(self) -> None:
        """Write the analysis cache in the background, at most every PERSIST_EVERY_S."""
        now = time.monotonic()
        if self._persisting is not None and not self._persisting.done():
            return
        if self._persisted_at is not None and now - self._persisted_at < PERSIST_EVERY_S:
            return
        self._persisted_at = now
        self._persisting = asyncio.ensure_future(self._persist_later())

    async def _persist_later(self) -> None:
        # not while the proxies fetch and ACK what was just published: same cores, one GIL
        await asyncio.sleep(PERSIST_DELAY_S)
        self._persist_writing = True
        try:
            await asyncio.to_thread(self.analyzer.persist)
        finally:
            self._persist_writing = False

    # -- status ---------------------------------------------------------------------------
    def introduced_by(self, version: str) -> str | None:
        """The revision that first served ``version`` (None without a journal)."""
        return self.journal.introduced_by(version) if self.journal is not None else None

    def status_json(self) -> dict[str, Any]:
        state = self.state
        describe = self.source.describe()
        status: dict[str, Any] = {
            "lastAttemptedRevision": state.last_attempted,
            "lastAppliedRevision": state.last_applied,
            "lastError": state.last_error,
            "source": {
                **describe,
                "lastSuccessTime": state.last_fetch_success,
                "stale": state.stale,
                "error": state.source_error,
                "reason": state.source_reason,
                "code": _reason_code(state.source_reason),
                "lastReachedTime": describe.get("lastSuccessTime"),
            },
            "journal": list(state.applied),
            **self.holds.status_json(),
            "restoredRevision": self.restored,
            "hostnames": dict(self.builder.hostnames),
            "waitingFor": self.waiting_for(),
            "history": (
                [e.to_json() for e in reversed(self.journal.entries()[-5:])]
                if self.journal is not None
                else []
            ),
        }
        if self.drift_fn is not None:
            status["drift"] = self.drift_fn()
        return status


def _reason_code(reason: str | None) -> str | None:
    """The RC65x code explaining a source failure reason (``reconciler explain-code``)."""
    try:
        return reason_code(SourceReason(reason)) if reason else None
    except ValueError:
        return None
