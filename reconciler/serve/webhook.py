"""``POST /hooks/github``: a signed GitHub push event only schedules a poll, nothing more.

The payload is never trusted for *what* to apply (the poll reads the branch from git
again); it is only a hint that the branch moved. Checks, in order: body size cap (413),
``X-Hub-Signature-256`` HMAC-SHA256 with a constant-time compare (401; the SHA-1 header is
not accepted), event type (``ping`` 200, anything but ``push`` 400), ``X-GitHub-Delivery``
dedupe after the signature check (200 for a replay, no second poll), then 202.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from aiohttp import web

from reconciler.errors import UsageError

MAX_BODY_BYTES = 25 * 1024 * 1024
"""GitHub caps payloads at 25 MB."""


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    REPLAYED = "replayed"
    IGNORED = "ignored"
    PING = "ping"
    UNAUTHORIZED = "unauthorized"
    TOO_LARGE = "too-large"
    BAD_REQUEST = "bad-request"


@dataclass(frozen=True, slots=True)
class PushEvent:
    ref: str
    after: str
    repository: str


def read_secret(path: str | os.PathLike[str]) -> bytes:
    """The webhook secret from ``--webhook-secret-file`` (surrounding whitespace removed)."""
    try:
        secret = Path(path).read_bytes().strip()
    except OSError as exc:
        raise UsageError(f"cannot read --webhook-secret-file {path}: {exc.strerror}") from exc
    if not secret:
        raise UsageError(f"--webhook-secret-file {path} is empty", hint="put the secret in it")
    return secret


def signature(body: bytes, secret: bytes) -> str:
    """The ``X-Hub-Signature-256`` value GitHub sends for ``body``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secret: bytes) -> bool:
    """True only for a well-formed ``sha256=<hex>`` header matching ``body`` (constant time)."""
    if not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(header.encode(), signature(body, secret).encode())


def parse_push(body: bytes) -> PushEvent:
    """The fields of a push event payload; ValueError if the body is not one."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"body is not JSON: {exc}") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("ref"), str):
        raise ValueError("body is not a push event (no 'ref')")
    repo = payload.get("repository")
    name = repo.get("full_name") if isinstance(repo, dict) else None
    after = payload.get("after")
    return PushEvent(
        ref=payload["ref"],
        after=after if isinstance(after, str) else "",
        repository=name if isinstance(name, str) else "",
    )


class DeliveryDedupe:
    """Remembers delivery ids for ``ttl_s`` seconds, at most ``capacity`` of them (LRU)."""

    def __init__(self, *, capacity: int = 10_000, ttl_s: float = 3600.0) -> None:
        self.capacity = capacity
        self.ttl_s = ttl_s
        self._seen: OrderedDict[str, float] = OrderedDict()

    def seen(self, delivery_id: str, now: float | None = None) -> bool:
        """True if ``delivery_id`` was recorded within the TTL; records it otherwise."""
        now = time.monotonic() if now is None else now
        while self._seen:
            oldest, at = next(iter(self._seen.items()))
            if now - at <= self.ttl_s and len(self._seen) <= self.capacity:
                break
            del self._seen[oldest]
        if delivery_id in self._seen:
            self._seen.move_to_end(delivery_id)
            return True
        self._seen[delivery_id] = now
        if len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        return False


Handler = Callable[[web.Request], Awaitable[web.Response]]


def github_handler(
    secret: bytes,
    poll_now: Callable[[PushEvent], None],
    *,
    branch: str | None = None,
    control_ref: str | None = None,
    max_body: int = MAX_BODY_BYTES,
    dedupe: DeliveryDedupe | None = None,
    record: Callable[[Outcome], None] | None = None,
) -> Handler:
    """An aiohttp handler for ``POST /hooks/github`` calling ``poll_now`` for accepted pushes.

    With ``branch``, a push to another branch is answered 200 ``ignored`` and polls nothing;
    a push to ``control_ref`` (the fleet control, when it is a branch) polls too.
    """
    deliveries = dedupe or DeliveryDedupe()

    def answer(outcome: Outcome, status: int, detail: str) -> web.Response:
        if record is not None:
            record(outcome)
        return web.json_response({"status": outcome.value, "detail": detail}, status=status)

    async def handler(request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > max_body:
            return answer(Outcome.TOO_LARGE, 413, f"body over {max_body} bytes")
        body = await _read_capped(request, max_body)
        if body is None:
            return answer(Outcome.TOO_LARGE, 413, f"body over {max_body} bytes")
        if not verify_signature(body, request.headers.get("X-Hub-Signature-256"), secret):
            return answer(Outcome.UNAUTHORIZED, 401, "missing or wrong X-Hub-Signature-256")
        event = request.headers.get("X-GitHub-Event", "")
        if event == "ping":
            return answer(Outcome.PING, 200, "pong")
        if event != "push":
            return answer(Outcome.BAD_REQUEST, 400, f"event {event!r} is not 'push'")
        try:
            push = parse_push(body)
        except ValueError as exc:
            return answer(Outcome.BAD_REQUEST, 400, str(exc))
        delivery = request.headers.get("X-GitHub-Delivery", "")
        if delivery and deliveries.seen(delivery):
            return answer(Outcome.REPLAYED, 200, f"delivery {delivery} already handled")
        if branch is not None and push.ref not in (f"refs/heads/{branch}", control_ref):
            return answer(Outcome.IGNORED, 200, f"push to {push.ref}, following {branch}")
        poll_now(push)
        return answer(Outcome.ACCEPTED, 202, "poll scheduled")

    return handler


async def _read_capped(request: web.Request, cap: int) -> bytes | None:
    """The whole body, or None as soon as it grows past ``cap`` bytes."""
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = await request.content.read(64 * 1024)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > cap:
            return None
        chunks.append(chunk)
