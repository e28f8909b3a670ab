"""Outgoing webhooks: an :class:`~reconciler.serve.events.EventSink` that POSTs notifications.

Contract:

* Events: ``revision.applied`` (a revision other than the one served before is published),
  ``revision.refused`` (with the diagnostics summary; once per commit), ``proxy.nack`` (once
  per proxy, type and version), ``proxy.refused`` (a stream's token was refused; once per
  claimed node id and problem per :data:`REPEAT_AFTER_S`).
* Never blocks the caller: each target has a bounded queue (:data:`QUEUE_SIZE`) drained by
  its own asyncio task; when the queue is full the oldest notification is dropped and
  ``reconciler_notifications_dropped_total`` counts it.
* Retries connection errors, timeouts, 408, 429 and 5xx with exponential backoff and jitter
  (``RetryPolicy``: bounded attempts and delay; ``Retry-After`` honoured up to the cap);
  another status fails at once. Redirects are not followed. A notification that still
  fails is logged and counted, never raised.
* Logs and metric labels name a target by format and host only: a Slack URL is a secret.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from prometheus_client import CollectorRegistry, Counter, Gauge

from reconciler.errors import UsageError
from reconciler.serve.events import OutcomeLike
from reconciler.serve.notify_event import (
    Notification,
    nack_notification,
    refused_notification,
    revision_notification,
)
from reconciler.serve.notify_format import Format, render
from reconciler.source import Revision
from reconciler.source.backoff import Backoff

log = logging.getLogger("reconciler.notify")

QUEUE_SIZE = 100
REPEAT_AFTER_S = 3600.0
"""A proxy event with the same key is not sent again within this many seconds."""
MAX_KEYS = 10_000
"""Proxy event keys remembered for :data:`REPEAT_AFTER_S` (the oldest are forgotten)."""
RESPONSE_READ_LIMIT = 64 * 1024


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 6
    """Attempts per notification, the first included."""
    base_s: float = 1.0
    cap_s: float = 60.0
    timeout_s: float = 10.0
    """Time limit of one attempt (connect, send, response)."""


@dataclass(frozen=True, slots=True)
class Target:
    format: Format
    url: str

    @property
    def label(self) -> str:
        """Format and host, never the path or query (a Slack URL's path is its secret)."""
        parts = urlsplit(self.url)
        return f"{self.format}:{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")


def parse_target(spec: str) -> Target:
    """``FORMAT=URL`` or ``FORMAT=@FILE`` (the URL read from a file: a Slack URL is a secret)."""
    name, eq, value = spec.partition("=")
    formats = ", ".join(f.value for f in Format)
    shown = f"{name}=..." if eq and "/" not in name else "a value without FORMAT="
    if not eq or name not in {f.value for f in Format}:
        raise UsageError(
            f"--notify {shown} is not FORMAT=URL with a known FORMAT",
            hint=f"FORMAT is one of {formats}; e.g. --notify slack=@/etc/reconciler/slack-url",
        )
    if value.startswith("@"):
        try:
            value = Path(value[1:]).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read the --notify URL file {value[1:]}: {exc}") from exc
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"--notify {name}=: not an http(s) URL (scheme {parts.scheme or 'missing'!r})",
            hint="give https://host/path, or @FILE holding it",
        )
    return Target(Format(name), value)


class NotifyMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.events = Counter(
            "reconciler_notification_events",
            "events queued for delivery",
            ["event"],
            registry=registry,
        )
        self.delivered = Counter(
            "reconciler_notifications_delivered",
            "notifications a target accepted (2xx)",
            ["target"],
            registry=registry,
        )
        self.failed = Counter(
            "reconciler_notifications_failed",
            "notifications given up (attempts exhausted or a status that is not retried)",
            ["target"],
            registry=registry,
        )
        self.retries = Counter(
            "reconciler_notification_retries",
            "attempts after the first",
            ["target"],
            registry=registry,
        )
        self.dropped = Counter(
            "reconciler_notifications_dropped",
            "oldest notifications dropped from a full queue",
            ["target"],
            registry=registry,
        )
        self.queued = Gauge(
            "reconciler_notification_queue_length",
            "notifications waiting per target",
            ["target"],
            registry=registry,
        )


@dataclass(slots=True)
class _Queue:
    target: Target
    items: deque[Notification]
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


class Notifier:
    """Implements :class:`~reconciler.serve.events.EventSink`. ``start()`` on the event loop
    before events flow, ``close()`` at shutdown (delivers what it can within a grace)."""

    def __init__(
        self,
        targets: list[Target],
        registry: CollectorRegistry,
        *,
        secret: bytes | None = None,
        server: str | None = None,
        applied: str | None = None,
        retry: RetryPolicy | None = None,
        queue_size: int = QUEUE_SIZE,
    ) -> None:
        if secret is None and any(t.format is Format.GENERIC for t in targets):
            raise UsageError(
                "generic notifications are signed: pass --notify-secret-file",
                hint="a file holding the shared HMAC secret the receiver checks",
            )
        self.targets = targets
        self.secret = secret
        self.server = server or socket.gethostname()
        self.retry = retry or RetryPolicy()
        self.metrics = NotifyMetrics(registry)
        self._queues = [_Queue(t, deque(maxlen=queue_size)) for t in targets]
        for queue in self._queues:
            self.metrics.queued.labels(queue.target.label).set_function(
                lambda q=queue: len(q.items)  # type: ignore[misc]
            )
        self._last_applied = applied
        """The revision served before (the journal's at start): applying it again (a restart,
        a certificate renewal) is not news."""
        self._last_refused: str | None = None
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: aiohttp.ClientSession | None = None
        self._closing = False

    # -- EventSink --------------------------------------------------------------------
    def revision(self, revision: Revision, outcome: OutcomeLike) -> None:
        if outcome.applied:
            if revision.id == self._last_applied:
                return
            self._last_applied = revision.id
            self._last_refused = None
        else:
            if revision.id == self._last_refused:
                return
            self._last_refused = revision.id
        self.emit(revision_notification(revision, outcome, server=self.server, now=time.time()))

    def proxy_nack(self, node_id: str, type_short: str, version: str, message: str) -> None:
        if self._repeated(f"nack\x00{node_id}\x00{type_short}\x00{version}"):
            return
        self.emit(
            nack_notification(
                node_id, type_short, version, message, server=self.server, now=time.time()
            )
        )

    def proxy_refused(self, node_id: str, problem: str, message: str) -> None:
        if self._repeated(f"refused\x00{node_id}\x00{problem}"):
            return
        self.emit(
            refused_notification(node_id, problem, message, server=self.server, now=time.time())
        )

    def _repeated(self, key: str) -> bool:
        now = time.monotonic()
        seen = self._seen.get(key)
        if seen is not None and now - seen < REPEAT_AFTER_S:
            return True
        self._seen[key] = now
        self._seen.move_to_end(key)
        while len(self._seen) > MAX_KEYS:
            self._seen.popitem(last=False)
        return False

    # -- queueing ---------------------------------------------------------------------
    def emit(self, note: Notification) -> None:
        """Queue ``note`` for every target; returns at once (drops the oldest if full)."""
        self.metrics.events.labels(str(note.kind)).inc()
        for queue in self._queues:
            if len(queue.items) == queue.items.maxlen:
                self.metrics.dropped.labels(queue.target.label).inc()
                log.warning("notification queue of %s full: oldest dropped", queue.target.label)
            queue.items.append(note)
            self._wake(queue)

    def _wake(self, queue: _Queue) -> None:
        if self._loop is None:
            return  # start() wakes every worker
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            queue.wake.set()
        else:
            self._loop.call_soon_threadsafe(queue.wake.set)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._session = aiohttp.ClientSession()
        for queue in self._queues:
            queue.task = asyncio.create_task(self._work(queue), name=f"notify {queue.target.label}")
            queue.wake.set()
            log.info("notifications to %s", queue.target.label)

    async def close(self, grace: float = 2.0) -> None:
        """Stop after delivering what is queued, or after ``grace`` seconds."""
        self._closing = True
        tasks = [q.task for q in self._queues if q.task is not None]
        for queue in self._queues:
            queue.wake.set()
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    async def _work(self, queue: _Queue) -> None:
        while True:
            if not queue.items:
                if self._closing:
                    return
                queue.wake.clear()
                await queue.wake.wait()
                continue
            note = queue.items.popleft()
            try:
                await self._deliver(queue.target, note)
            except Exception:
                log.exception("notification %s to %s failed", note.kind, queue.target.label)
                self.metrics.failed.labels(queue.target.label).inc()

    # -- delivery ---------------------------------------------------------------------
    async def _deliver(self, target: Target, note: Notification) -> None:
        assert self._session is not None
        body, headers = render(note, target.format, self.secret)
        policy = self.retry
        backoff = Backoff(base_s=policy.base_s, cap_s=policy.cap_s)
        label = target.label
        for attempt in range(1, policy.attempts + 1):
            retry_after: float | None = None
            try:
                async with self._session.post(
                    target.url,
                    data=body,
                    headers=headers,
                    allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=policy.timeout_s),
                ) as response:
                    await response.content.read(RESPONSE_READ_LIMIT)
                    status = response.status
                    retry_after = _seconds(response.headers.get("Retry-After"))
            except (aiohttp.ClientError, TimeoutError) as exc:
                problem, retryable = f"{type(exc).__name__}: {exc}", True
            else:
                if 200 <= status < 300:
                    self.metrics.delivered.labels(label).inc()
                    log.debug("%s delivered to %s (attempt %d)", note.kind, label, attempt)
                    return
                problem = f"HTTP {status}"
                retryable = status >= 500 or status in (408, 429)
            if not retryable or attempt == policy.attempts or self._closing:
                self.metrics.failed.labels(label).inc()
                log.warning(
                    "notification %s to %s failed after %d attempt(s): %s",
                    note.kind,
                    label,
                    attempt,
                    problem,
                )
                return
            self.metrics.retries.labels(label).inc()
            delay = backoff.next_delay()
            if retry_after is not None:
                delay = min(policy.cap_s, max(delay, retry_after))
            log.info("notification %s to %s: %s; retry in %.1fs", note.kind, label, problem, delay)
            await asyncio.sleep(delay)


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: the backoff decides


def read_notify_secret(path: Path) -> bytes:
    try:
        secret = path.read_bytes().strip()
    except OSError as exc:
        raise UsageError(f"cannot read --notify-secret-file {path}: {exc.strerror}") from exc
    if not secret:
        raise UsageError(f"--notify-secret-file {path} is empty", hint="put the secret in it")
    return secret
