"""An in-process control plane on ephemeral 127.0.0.1 ports, fed hand-built configs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from polling import until

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

    def settled() -> bool:
        state = plane.registry.find(node_id)
        return state is not None and all(
            v.sent and v.acked == v.sent for v in state.versions.values()
        )

    await until(settled, timeout, f"{node_id} to ACK everything sent")
