"""The GitOps side of the reconcile loop: journal, rollback pin, backoff, restart recovery.

:class:`GitOpsReconciler` extends :class:`~reconciler.serve.loop.Reconciler` (which stays
source-agnostic and transactional) with what following a branch needs:

* **restart recovery**: before the first fetch, the journal's last applied revision (or the
  pinned one) is read from the local git cache and served, so a restart with the remote down
  serves what was served before;
* **version origins**: versions are content hashes (equal on every replica and restart); the
  journal records which commit introduced each one (``/status`` shows it beside them);
* **journal** of the last N applied revisions, and their commits kept in the cache;
* **rollback pin** (``reconciler rollback --to SHA`` writes ``pin.json``): the pinned
  revision is served and the branch is not followed until ``reconciler resume``;
* **backoff**: a failed fetch retries after a capped, jittered backoff instead of the
  interval; status and metrics give the reason and the staleness.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from prometheus_client import Counter, Gauge

from reconciler.errors import SourceError
from reconciler.journal import Journal, JournalEntry, Pin
from reconciler.resource_types import ProxyConfig
from reconciler.serve.analysis_cache import RevisionAnalyzer
from reconciler.serve.events import NO_EVENTS, EventSink
from reconciler.serve.loop import CompileFn, Outcome, Reconciler
from reconciler.serve.metrics import Metrics
from reconciler.snapshot import SnapshotCache, build_snapshots
from reconciler.snapshot.snapshot import Snapshot
from reconciler.source import Revision, Source
from reconciler.source.backoff import Backoff, jittered
from reconciler.source.git_errors import SourceReason, reason_code

log = logging.getLogger("reconciler.serve")

PERSIST_EVERY_S = 60.0
"""The analysis cache is written after the first publish, then at most this often."""


class SourceMetrics:
    """The source's Prometheus series, registered in the server's registry."""

    def __init__(self, metrics: Metrics) -> None:
        r = metrics.registry
        self.last_success = Gauge(
            "reconciler_source_last_success_timestamp_seconds",
            "Unix time the source was last fetched successfully (staleness = now - this)",
            registry=r,
        )
        self.last_applied = Gauge(
            "reconciler_source_last_applied_timestamp_seconds",
            "Unix time a revision was last applied",
            registry=r,
        )
        self.errors = Counter(
            "reconciler_source_errors", "failed fetches by reason", ["reason"], registry=r
        )
        self.pinned = Gauge(
            "reconciler_source_pinned", "1 while a rollback pins the served revision", registry=r
        )
        self.drifted = Gauge(
            "reconciler_proxies_drifted",
            "connected proxies whose ACKed configuration is not the current snapshot",
            registry=r,
        )
        self.webhooks = Counter(
            "reconciler_webhook_requests", "POST /hooks/github by outcome", ["outcome"], registry=r
        )


class GitOpsReconciler(Reconciler):
    def __init__(
        self,
        source: Source,
        compile: CompileFn,
        cache: SnapshotCache,
        metrics: Metrics,
        *,
        journal: Journal,
        interval: float | None = 30.0,
        backoff: Backoff | None = None,
        analysis_cache: bool = True,
    ) -> None:
        self.analyzer = RevisionAnalyzer(journal.dir / "analysis" if analysis_cache else None)
        super().__init__(source, compile, cache, metrics, interval=interval, analyze=self.analyzer)
        self.journal = journal
        cap = max(300.0, interval or 0.0)
        self.backoff = backoff or Backoff(base_s=min(5.0, interval or 5.0), cap_s=cap)
        self.source_metrics = SourceMetrics(metrics)
        self.source_reason: str | None = None
        self.pin: Pin | None = None
        self.restored: str | None = None
        """The sha served from the journal at start, before any fetch."""
        self._built: dict[str, tuple[ProxyConfig, Snapshot]] = {}
        self._persisting: asyncio.Future[None] | None = None
        self._persisted_at: float | None = None
        self.drift_fn: Callable[[], list[dict[str, Any]]] | None = None
        self.events: EventSink = NO_EVENTS
        """Set by :class:`Following`: proxies whose ACKed versions differ from the snapshot."""

    # -- start ------------------------------------------------------------------------
    async def restore(self) -> Outcome | None:
        """Serve the pinned or last applied revision from the local cache (no network)."""
        pin = self.journal.pin()
        last = self.journal.last()
        sha = pin.sha if pin is not None else (last.sha if last is not None else None)
        read = getattr(self.source, "read", None)
        if sha is None or read is None:
            return None
        try:
            revision = await asyncio.to_thread(read, sha)
        except SourceError as exc:
            log.warning("cannot restore revision %s from the cache: %s", sha[:8], exc)
            return None
        outcome = await self.apply(revision)
        if outcome.applied:
            self.restored = sha
            log.info("restored revision %s from the state directory", sha[:8])
        return outcome

    async def run(self, stop: asyncio.Event) -> None:
        try:
            await self._run(stop)
        finally:
            self.analyzer.persist()  # a restart starts with every file analysed

    async def _run(self, stop: asyncio.Event) -> None:
        await self.restore()
        while not stop.is_set():
            failed = False
            try:
                await self.reconcile()
                failed = self.state.stale
            except Exception:
                log.exception("reconcile failed unexpectedly; the last snapshot keeps serving")
            if failed:
                delay: float | None = self.backoff.next_delay()
            else:
                self.backoff.reset()
                delay = None if self.interval is None else jittered(self.interval)
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

    # -- one tick ---------------------------------------------------------------------
    async def reconcile(self) -> Outcome | None:
        self.pin = self.journal.pin()
        self.source_metrics.pinned.set(1 if self.pin else 0)
        if self.pin is not None:
            return await self._serve_pin(self.pin)
        try:
            revision = await asyncio.to_thread(self.source.fetch)
        except SourceError as exc:
            reason = str(getattr(exc, "reason", "unreachable"))
            self.state.stale = True
            self.state.source_error = str(exc)
            self.source_reason = reason
            self.source_metrics.errors.labels(reason).inc()
            log.warning("source unavailable (%s), keeping the last snapshot: %s", reason, exc)
            return None
        now = time.time()
        self.state.last_fetch_success = now
        self.state.stale = False
        self.state.source_error = None
        self.source_reason = None
        self.source_metrics.last_success.set(now)
        if revision.id == self.state.last_attempted:
            return None
        return await self.apply(revision)

    async def _serve_pin(self, pin: Pin) -> Outcome | None:
        if self.state.last_applied == pin.sha or self.state.last_attempted == pin.sha:
            return None
        read = getattr(self.source, "read", None)
        if read is None:
            return None
        try:
            revision = await asyncio.to_thread(read, pin.sha)
        except SourceError as exc:
            self.state.source_error = f"cannot read pinned revision {pin.sha[:8]}: {exc}"
            return None
        return await self.apply(revision)

    async def apply(self, revision: Revision) -> Outcome:
        before = {n: s.content for n in self.cache.node_ids() if (s := self.cache.get(n))}
        outcome = await super().apply(revision)
        self.events.revision(revision, outcome)
        if outcome.applied:
            self.source_metrics.last_applied.set(time.time())
            await asyncio.to_thread(self._record, revision, before)
        self._persist_soon()
        return outcome

    def _persist_soon(self) -> None:
        """Write the analysis cache in the background, at most every PERSIST_EVERY_S."""
        now = time.monotonic()
        if self._persisting is not None and not self._persisting.done():
            return
        if self._persisted_at is not None and now - self._persisted_at < PERSIST_EVERY_S:
            return
        self._persisted_at = now
        self._persisting = asyncio.ensure_future(asyncio.to_thread(self.analyzer.persist))

    def _record(self, revision: Revision, before: dict[str, str]) -> None:
        after = {n: s.content for n in self.cache.node_ids() if (s := self.cache.get(n))}
        affected = sorted(n for n in set(before) | set(after) if before.get(n) != after.get(n))
        self.journal.note_versions(self.cache.versions(), revision.id)
        last = self.journal.last()
        if last is not None and last.sha == revision.id:
            return
        entry = JournalEntry(
            sha=revision.id,
            content_hash=revision_content(after),
            time=time.time(),
            proxies=tuple(affected),
            author=revision.meta.get("author", ""),
            message=revision.meta.get("message", ""),
        )
        kept = self.journal.record(entry)
        keep = getattr(self.source, "keep", None)
        if keep is not None:
            try:
                keep({e.sha for e in kept})
            except SourceError as exc:
                log.warning("could not keep journal commits in the cache: %s", exc)

    # -- versions ---------------------------------------------------------------------
    def build_snapshots(
        self, configs: Mapping[str, ProxyConfig], revision: Revision
    ) -> tuple[Mapping[str, Any], list[Any]]:
        """Only proxies whose compiled config is a new object are serialized again (the
        incremental compiler hands back the same object for a proxy a commit does not
        reach)."""
        reused: dict[str, Snapshot] = {}
        fresh: dict[str, ProxyConfig] = {}
        for node, config in configs.items():
            hit = self._built.get(node)
            if hit is not None and hit[0] is config:
                reused[node] = hit[1]
            else:
                fresh[node] = config
        built, problems = build_snapshots(fresh, self.cache.interner)
        if problems:
            return {}, problems
        snapshots = {**reused, **built}
        self._built = {node: (configs[node], snap) for node, snap in snapshots.items()}
        return snapshots, []

    def introduced_by(self, version: str) -> str | None:
        return self.journal.introduced_by(version)

    # -- status -----------------------------------------------------------------------
    def status_json(self) -> dict[str, Any]:
        status = super().status_json()
        describe = self.source.describe()
        status["source"].update(
            {
                "reason": self.source_reason,
                "code": _reason_code(self.source_reason),
                "lastReachedTime": describe.get("lastSuccessTime"),
            }
        )
        status["following"] = self.pin is None
        status["pinned"] = (
            {"sha": self.pin.sha, "time": self.pin.time, "reason": self.pin.reason}
            if self.pin
            else None
        )
        status["restoredRevision"] = self.restored
        status["history"] = [e.to_json() for e in reversed(self.journal.entries()[-5:])]
        if self.drift_fn is not None:
            status["drift"] = self.drift_fn()
        return status


def _reason_code(reason: str | None) -> str | None:
    """The RC65x code explaining a source failure reason (``reconciler explain-code``)."""
    try:
        return reason_code(SourceReason(reason)) if reason else None
    except ValueError:
        return None


def revision_content(contents: dict[str, str]) -> str:
    digest = hashlib.blake2b(digest_size=8)
    for node in sorted(contents):
        digest.update(f"{node}={contents[node]};".encode())
    return digest.hexdigest()
