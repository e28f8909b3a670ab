"""Outgoing notifications against a real HTTP receiver on 127.0.0.1: signatures, retries,
bounded queues, and the events of a real reconcile loop and real ADS streams."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ads_client import AdsClient
from gitops_repo import Repo, serving, timeout_policy
from harness import publish, run
from proxy_configs import outbound_proxy
from webhook_receiver import receiving

from reconciler.identity.serving import make_verifier
from reconciler.resource_types import TypeUrl
from reconciler.serve.loop import Outcome
from reconciler.serve.metrics import Metrics
from reconciler.serve.notify import Notifier, RetryPolicy, Target
from reconciler.serve.notify_format import Format
from reconciler.serve.server import ControlPlane
from reconciler.source import Revision

SECRET = b"notify-secret-for-tests"
FAST = RetryPolicy(attempts=4, base_s=0.01, cap_s=0.05, timeout_s=5.0)
SHA = "0123456789abcdef0123456789abcdef01234567"


def documented_verify() -> Callable[[bytes, str, bytes], bool]:
    """The receiver-side check as docs/notifications.md gives it."""
    doc = (Path(__file__).parents[2] / "docs" / "notifications.md").read_text()
    [code] = re.findall(r"```python\n(.*?)```", doc, re.S)
    scope: dict[str, Any] = {}
    exec(compile(code, "docs/notifications.md", "exec"), scope)
    return scope["verify"]  # type: ignore[no-any-return]


def value(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def notifier(
    url: str, fmt: Format, metrics: Metrics, *, queue_size: int = 100, applied: str | None = None
) -> Notifier:
    return Notifier(
        [Target(fmt, url)],
        metrics.registry,
        secret=SECRET,
        server="replica-a",
        retry=FAST,
        queue_size=queue_size,
        applied=applied,
    )


def refused_outcome(count: int) -> Outcome:
    diagnostics = [
        {
            "code": "RC201",
            "severity": "error",
            "message": f"unknown field 'x{i}'",
            "file": "mesh/t.yaml",
            "line": i + 1,
            "col": 3,
            "text": f"mesh/t.yaml:{i + 1}:3: error[RC201] spec.x{i}: unknown field 'x{i}'",
        }
        for i in range(count)
    ]
    error = {"code": "RC605", "message": "revision has errors", "diagnostics": diagnostics}
    return Outcome(SHA, False, error=error)


def test_generic_body_is_signed_and_retried_after_500s() -> None:
    async def body() -> None:
        metrics = Metrics()
        async with receiving([500, 503]) as receiver:
            sink = notifier(receiver.url(), Format.GENERIC, metrics)
            await sink.start()
            sink.proxy_nack("default.web-1", "RDS", "v7", "line one\nroute x: unknown cluster y")
            first, second, third = [await receiver.next() for _ in range(3)]
            await sink.close(grace=5.0)
        assert first.body == second.body == third.body, "a retry sends the same delivery"
        sent = third.headers["X-Reconciler-Signature-256"]
        expected = "sha256=" + hmac.new(SECRET, third.body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(sent, expected)
        forged = "sha256=" + hmac.new(b"another secret", third.body, hashlib.sha256).hexdigest()
        assert sent != forged
        verify = documented_verify()
        assert verify(third.body, sent, SECRET)
        assert not verify(third.body, forged, SECRET)
        assert not verify(third.body.replace(b"v7", b"v8"), sent, SECRET)
        doc = third.json()
        assert doc["event"] == "proxy.nack" == third.headers["X-Reconciler-Event"]
        assert doc["id"] == third.headers["X-Reconciler-Delivery"]
        assert doc["server"] == "replica-a"
        assert doc["proxy"] == {
            "id": "default.web-1",
            "type": "RDS",
            "version": "v7",
            "message": "line one\nroute x: unknown cluster y",
        }
        assert "route x: unknown cluster y" in doc["summary"]
        target = Target(Format.GENERIC, receiver.url()).label
        assert value(metrics, "reconciler_notification_retries_total", target=target) == 2
        assert value(metrics, "reconciler_notifications_delivered_total", target=target) == 1
        assert value(metrics, "reconciler_notifications_failed_total", target=target) == 0

    run(body)


def test_slack_body_lists_diagnostics_and_escapes_what_proxies_send() -> None:
    async def body() -> None:
        metrics = Metrics()
        async with receiving() as receiver:
            sink = notifier(receiver.url(), Format.SLACK, metrics)
            await sink.start()
            revision = Revision(SHA, (), meta={"author": "Ada", "message": "tighten timeouts\n\nx"})
            sink.revision(revision, refused_outcome(12))
            refused = (await receiver.next()).json()
            sink.proxy_refused("<!channel> & co", "missing", "no token in the metadata")
            evil = (await receiver.next()).json()
            await sink.close(grace=5.0)
        assert "X-Reconciler-Signature-256" not in receiver.requests[0].headers
        assert refused["text"].startswith("[revision.refused] revision 01234567 refused")
        assert "12 errors (RC201 x12)" in refused["text"]
        section = refused["blocks"][0]["text"]["text"]
        assert "mesh/t.yaml:1:3: error[RC201] spec.x0: unknown field 'x0'" in section
        assert "mesh/t.yaml:10:3" in section and "mesh/t.yaml:11:3" not in section
        assert "... and 2 more" in section
        assert "replica-a" in refused["blocks"][1]["elements"][0]["text"]
        evil_section = evil["blocks"][0]["text"]["text"]
        assert "&lt;!channel&gt; &amp; co" in evil_section and "<!channel>" not in evil_section

    run(body)


def test_gives_up_after_the_bounded_attempts_and_never_retries_a_4xx() -> None:
    async def body() -> None:
        metrics = Metrics()
        async with receiving([503] * 10 + [400]) as receiver:
            sink = notifier(receiver.url(), Format.GENERIC, metrics)
            await sink.start()
            sink.proxy_refused("default.a", "expired", "token expired")
            for _ in range(FAST.attempts):
                await receiver.next()
            receiver.statuses[:] = [400]
            sink.proxy_refused("default.b", "expired", "token expired")
            assert (await receiver.next()).json()["proxy"]["id"] == "default.b"
            await sink.close(grace=5.0)
        assert len(receiver.requests) == FAST.attempts + 1
        target = Target(Format.GENERIC, receiver.url()).label
        assert value(metrics, "reconciler_notifications_failed_total", target=target) == 2
        assert value(metrics, "reconciler_notification_retries_total", target=target) == 3

    run(body)


def test_a_full_queue_drops_the_oldest_and_never_blocks_the_caller() -> None:
    async def body() -> None:
        metrics = Metrics()
        async with receiving() as receiver:
            receiver.hold = asyncio.Event()
            sink = notifier(receiver.url(), Format.GENERIC, metrics, queue_size=3)
            await sink.start()
            sink.proxy_refused("default.p0", "missing", "m")
            await receiver.next()  # p0 is in flight; the receiver holds it
            for i in range(1, 7):  # returns at once although nothing is delivered
                sink.proxy_refused(f"default.p{i}", "missing", "m")
            target = Target(Format.GENERIC, receiver.url()).label
            assert value(metrics, "reconciler_notifications_dropped_total", target=target) == 3
            assert value(metrics, "reconciler_notification_queue_length", target=target) == 3
            receiver.hold.set()
            await sink.close(grace=5.0)
        ids = [r.json()["proxy"]["id"] for r in receiver.requests]
        assert ids == ["default.p0", "default.p4", "default.p5", "default.p6"]

    run(body)


def test_the_reconcile_loop_notifies_each_applied_and_refused_commit_once(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    first = repo.initial()

    async def body() -> None:
        async with serving(repo.path, tmp_path / "state") as (plane, loop), receiving() as rx:
            sink = notifier(rx.url(), Format.GENERIC, plane.metrics)
            loop.events = sink
            await sink.start()
            await loop.reconcile()
            applied = (await rx.next()).json()
            assert applied["event"] == "revision.applied"
            assert applied["revision"]["sha"] == first
            assert applied["revision"]["message"] == "a mesh with two proxies"
            assert applied["revision"]["proxies"] == 2
            bad = repo.commit("typo", {"mesh/timeout.yaml": timeout_policy("1s", "requestTimout")})
            await loop.reconcile()
            refused = (await rx.next()).json()
            assert refused["event"] == "revision.refused"
            assert refused["revision"]["sha"] == bad
            codes = {d["code"]: d for d in refused["error"]["diagnostics"]}
            assert sorted(codes) == ["RC201", "RC304"]
            assert codes["RC201"]["file"] == "mesh/timeout.yaml" and codes["RC201"]["line"] == 13
            assert "did you mean 'requestTimeout'" in codes["RC201"]["text"]
            assert refused["error"]["diagnosticCount"] == 2
            assert "2 errors (RC201 x1, RC304 x1)" in refused["summary"]
            # a certificate renewal re-applies the served revision: no news, nothing sent
            loop.state.last_attempted = None
            await loop.reconcile()
            await loop.apply(await asyncio.to_thread(loop.source.read, first))  # type: ignore[attr-defined]
            events = "reconciler_notification_events_total"
            assert value(plane.metrics, events, event="revision.refused") == 1
            assert value(plane.metrics, events, event="revision.applied") == 1
            await sink.close(grace=5.0)
            assert len(rx.requests) == 2

    run(body, timeout=60)


def test_restarting_on_the_journal_revision_sends_nothing(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    first = repo.initial()

    async def body() -> None:
        async with serving(repo.path, tmp_path / "state") as (plane, loop):
            sink = notifier(
                "http://127.0.0.1:9/unused", Format.GENERIC, plane.metrics, applied=first
            )
            loop.events = sink
            await loop.reconcile()
            assert plane.cache.ready
            events = "reconciler_notification_events_total"
            assert value(plane.metrics, events, event="revision.applied") == 0

    run(body)


NODE = "default.frontend"


def test_nack_and_refused_stream_reach_the_receiver(tmp_path: Path) -> None:
    config = outbound_proxy(
        NODE, ("127.0.0.1", 15001), {"backend": 1}, {"backend": [("127.0.0.2", 8080)]}
    )

    async def body() -> None:
        metrics = Metrics()
        async with receiving() as rx:
            sink = notifier(rx.url(), Format.GENERIC, metrics)
            await sink.start()
            plane = ControlPlane(metrics=metrics, events=sink)
            await plane.start("127.0.0.1:0", None)
            locked = ControlPlane(verifier=make_verifier(tmp_path, None), events=sink)
            await locked.start("127.0.0.1:0", None)
            try:
                publish(plane, config)
                client = AdsClient(f"127.0.0.1:{plane.xds_port}", NODE)
                await client.request(TypeUrl.CLUSTER)
                cds = await client.recv()
                await client.request(
                    TypeUrl.CLUSTER, version="", nonce=cds.nonce, error="cluster rejected: test"
                )
                nack = (await rx.next()).json()
                await client.close()
                assert nack["event"] == "proxy.nack"
                assert nack["proxy"]["id"] == NODE and nack["proxy"]["type"] == "CDS"
                assert nack["proxy"]["version"] == cds.version_info
                intruder = AdsClient(f"127.0.0.1:{locked.xds_port}", "default.web-9")
                await intruder.request(TypeUrl.CLUSTER)
                with pytest.raises(EOFError):
                    await intruder.recv()
                await intruder.close()
                refused = (await rx.next()).json()
                assert refused["event"] == "proxy.refused"
                assert refused["proxy"]["id"] == "default.web-9"
                assert refused["proxy"]["problem"] == "missing"
            finally:
                await plane.stop(0)
                await locked.stop(0)
                await sink.close(grace=5.0)

    run(body, timeout=60)
