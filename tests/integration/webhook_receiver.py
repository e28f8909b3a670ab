"""A real HTTP receiver on 127.0.0.1 for outgoing notifications: records every request and
answers with scripted statuses (then 200), optionally holding requests until released."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass(frozen=True, slots=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    statuses: list[int] = field(default_factory=list)
    """Answered in order; 200 once exhausted."""
    hold: asyncio.Event | None = None
    """When set to an unset event, requests wait for it before answering."""
    requests: list[Received] = field(default_factory=list)
    arrived: asyncio.Queue[Received] = field(default_factory=asyncio.Queue)
    port: int = 0

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def handle(self, request: web.Request) -> web.Response:
        got = Received(request.path, dict(request.headers), await request.read())
        self.requests.append(got)
        self.arrived.put_nowait(got)
        if self.hold is not None:
            await self.hold.wait()
        status = self.statuses.pop(0) if self.statuses else 200
        return web.Response(status=status, text="ok\n" if status < 300 else "failing\n")

    async def next(self, timeout: float = 10.0) -> Received:
        return await asyncio.wait_for(self.arrived.get(), timeout)


@asynccontextmanager
async def receiving(statuses: list[int] | None = None) -> AsyncIterator[Receiver]:
    receiver = Receiver(statuses=list(statuses or []))
    app = web.Application()
    app.router.add_post("/{tail:.*}", receiver.handle)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    receiver.port = int(runner.addresses[0][1])
    try:
        yield receiver
    finally:
        if receiver.hold is not None:
            receiver.hold.set()
        await runner.cleanup()
