"""An in-process control plane on ephemeral 127.0.0.1 ports, fed hand-built configs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from reconciler.resource_types import ProxyConfig
from reconciler.serve.server import ControlPlane
from reconciler.snapshot import PublishResult, build_snapshots


def publish(plane: ControlPlane, *configs: ProxyConfig) -> PublishResult:
    snapshots, problems = build_snapshots({c.node_id: c for c in configs}, plane.cache.interner)
    assert not problems, problems
    return plane.cache.publish(snapshots)


@asynccontextmanager
async def running_plane(*configs: ProxyConfig) -> AsyncIterator[ControlPlane]:
    plane = ControlPlane()
    await plane.start("127.0.0.1:0", "127.0.0.1:0")
    try:
        if configs:
            publish(plane, *configs)
        yield plane
    finally:
        await plane.stop(0)


def run(test: Callable[[], Awaitable[Any]], timeout: float = 30.0) -> Any:
    """Run an async test body with a hard time bound."""

    async def bounded() -> Any:
        return await asyncio.wait_for(test(), timeout)

    return asyncio.run(bounded())


async def acked(plane: ControlPlane, node_id: str, timeout: float = 5.0) -> None:
    """Wait until the server has processed ``node_id``'s ACKs of everything it sent."""
    for _ in range(int(timeout / 0.01)):
        state = plane.registry.find(node_id)
        if state is not None and all(v.sent and v.acked == v.sent for v in state.versions.values()):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{node_id} did not ACK everything within {timeout}s")
