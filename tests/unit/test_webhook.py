"""POST /hooks/github: signatures, body cap, event types, delivery dedupe (real aiohttp server)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from reconciler.errors import UsageError
from reconciler.serve.webhook import (
    DeliveryDedupe,
    Outcome,
    PushEvent,
    github_handler,
    parse_push,
    read_secret,
    signature,
    verify_signature,
)

SECRET = b"It's a Secret to Everybody"
PUSH = json.dumps(
    {"ref": "refs/heads/main", "after": "a" * 40, "repository": {"full_name": "team/mesh"}}
).encode()


def test_github_documented_vector() -> None:
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert signature(b"Hello, World!", SECRET) == expected
    assert verify_signature(b"Hello, World!", expected, SECRET)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "sha256=" + "0" * 64,
        "sha1=" + "0" * 40,
        signature(b"Hello, World!", b"other secret"),
        signature(b"Hello, World!", SECRET).upper(),
    ],
)
def test_bad_signatures(header: str | None) -> None:
    assert not verify_signature(b"Hello, World!", header, SECRET)


def test_parse_push() -> None:
    assert parse_push(PUSH) == PushEvent("refs/heads/main", "a" * 40, "team/mesh")
    for body in (b"not json", b"[]", b'{"zen": "ping"}', b"\xff"):
        with pytest.raises(ValueError):
            parse_push(body)


def test_dedupe_ttl_and_capacity() -> None:
    d = DeliveryDedupe(capacity=2, ttl_s=10)
    assert not d.seen("a", now=0)
    assert d.seen("a", now=5)
    assert not d.seen("a", now=16)  # expired after the TTL
    assert not d.seen("b", now=16)
    assert not d.seen("c", now=16)  # evicts the least recently seen ("a")
    assert not d.seen("a", now=16)


def test_read_secret(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_bytes(SECRET + b"\n")
    assert read_secret(path) == SECRET
    path.write_text("  \n")
    with pytest.raises(UsageError):
        read_secret(path)
    with pytest.raises(UsageError):
        read_secret(tmp_path / "missing")


Scenario = Callable[[TestClient[web.Request, web.Application], list[PushEvent]], Awaitable[None]]


def run(
    scenario: Scenario,
    *,
    max_body: int = 1024,
    branch: str | None = "main",
    control_ref: str | None = None,
) -> list[Outcome]:
    pushes: list[PushEvent] = []
    outcomes: list[Outcome] = []

    async def main() -> None:
        app = web.Application()
        handler = github_handler(
            SECRET,
            pushes.append,
            branch=branch,
            control_ref=control_ref,
            max_body=max_body,
            record=outcomes.append,
        )
        app.router.add_post("/hooks/github", handler)
        async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
            await scenario(client, pushes)

    asyncio.run(main())
    return outcomes


def headers(body: bytes, delivery: str = "d-1", event: str = "push") -> dict[str, str]:
    return {
        "X-Hub-Signature-256": signature(body, SECRET),
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "Content-Type": "application/json",
    }


def test_good_push_schedules_one_poll_and_replay_does_not() -> None:
    async def scenario(
        client: TestClient[web.Request, web.Application], pushes: list[PushEvent]
    ) -> None:
        first = await client.post("/hooks/github", data=PUSH, headers=headers(PUSH))
        assert first.status == 202
        assert (await first.json())["status"] == "accepted"
        replay = await client.post("/hooks/github", data=PUSH, headers=headers(PUSH))
        assert replay.status == 200
        assert (await replay.json())["status"] == "replayed"
        other = await client.post("/hooks/github", data=PUSH, headers=headers(PUSH, "d-2"))
        assert other.status == 202
        assert len(pushes) == 2

    assert run(scenario) == [Outcome.ACCEPTED, Outcome.REPLAYED, Outcome.ACCEPTED]


def test_missing_and_bad_signatures_are_401_and_do_not_poll() -> None:
    async def scenario(
        client: TestClient[web.Request, web.Application], pushes: list[PushEvent]
    ) -> None:
        h = headers(PUSH)
        del h["X-Hub-Signature-256"]
        assert (await client.post("/hooks/github", data=PUSH, headers=h)).status == 401
        h["X-Hub-Signature-256"] = signature(PUSH, b"wrong")
        assert (await client.post("/hooks/github", data=PUSH, headers=h)).status == 401
        tampered = PUSH.replace(b"main", b"evil")
        bad = await client.post("/hooks/github", data=tampered, headers=headers(PUSH))
        assert bad.status == 401
        # an unauthenticated replay attempt does not poison the dedupe of the real delivery
        assert (await client.post("/hooks/github", data=PUSH, headers=headers(PUSH))).status == 202
        assert len(pushes) == 1

    assert run(scenario).count(Outcome.UNAUTHORIZED) == 3


def test_body_over_the_cap_is_413() -> None:
    big = json.dumps({"ref": "refs/heads/main", "pad": "x" * 5000}).encode()

    async def scenario(
        client: TestClient[web.Request, web.Application], pushes: list[PushEvent]
    ) -> None:
        resp = await client.post("/hooks/github", data=big, headers=headers(big))
        assert resp.status == 413

        async def chunks():  # type: ignore[no-untyped-def]
            for _ in range(10):
                yield b"x" * 1000

        streamed = await client.post("/hooks/github", data=chunks(), headers=headers(b""))
        assert streamed.status == 413
        assert pushes == []

    assert run(scenario) == [Outcome.TOO_LARGE, Outcome.TOO_LARGE]


def test_ping_other_events_and_bad_payloads() -> None:
    ping = b'{"zen": "Keep it logically awesome."}'
    not_json = b"ref=main"

    async def scenario(
        client: TestClient[web.Request, web.Application], pushes: list[PushEvent]
    ) -> None:
        r = await client.post("/hooks/github", data=ping, headers=headers(ping, event="ping"))
        assert r.status == 200
        r = await client.post("/hooks/github", data=PUSH, headers=headers(PUSH, event="issues"))
        assert r.status == 400
        r = await client.post("/hooks/github", data=not_json, headers=headers(not_json))
        assert r.status == 400
        assert pushes == []

    assert run(scenario) == [Outcome.PING, Outcome.BAD_REQUEST, Outcome.BAD_REQUEST]


def test_push_to_another_branch_is_ignored() -> None:
    other = PUSH.replace(b"refs/heads/main", b"refs/heads/dev")

    async def scenario(
        client: TestClient[web.Request, web.Application], pushes: list[PushEvent]
    ) -> None:
        r = await client.post("/hooks/github", data=other, headers=headers(other))
        assert r.status == 200
        assert (await r.json())["status"] == "ignored"
        assert pushes == []

    assert run(scenario) == [Outcome.IGNORED]


def test_push_to_the_fleet_control_branch_polls() -> None:
    control = PUSH.replace(b"refs/heads/main", b"refs/heads/mesh-control")
    polled: list[list[str]] = []

    async def scenario(
        client: TestClient[web.Request, web.Application], pushes: list[PushEvent]
    ) -> None:
        await client.post("/hooks/github", data=control, headers=headers(control))
        polled.append([p.ref for p in pushes])

    assert run(scenario, control_ref="refs/heads/mesh-control") == [Outcome.ACCEPTED]
    assert run(scenario) == [Outcome.IGNORED]  # not the control ref of this server
    assert polled == [["refs/heads/mesh-control"], []]
