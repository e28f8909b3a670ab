"""What one ADS stream holds between events, against the in-process server.

The memory per connected proxy rests on these: an idle stream is its gRPC call's task and
its object, with no queue and no second task; a change or timer is handled by a task that
ends with it; streams with the same subscription share one set of names; a SotW stream
refers to its snapshot's clusters instead of copying them; Delta streams holding the same
resources share one mapping of what they hold.
"""

from __future__ import annotations

import asyncio
import gc

import pytest
from ads_client import AdsClient
from harness import acked, publish, run, running_plane
from polling import until
from proxy_configs import outbound_proxy
from test_ads_sotw import connect_all

from reconciler.resource_types import TypeUrl
from reconciler.serve.delta import DeltaStream, Digests
from reconciler.serve.sotw import SotwStream
from reconciler.serve.stream import AdsStream, SharedMemo, SharedNames

CDS, EDS, LDS, RDS = TypeUrl.CLUSTER, TypeUrl.ENDPOINT, TypeUrl.LISTENER, TypeUrl.ROUTE
NODES = ("default.frontend-a", "default.frontend-b")


def frontend(node: str, weights: dict[str, int] | None = None) -> object:
    return outbound_proxy(
        node,
        ("127.0.0.1", 15001),
        weights or {"backend": 1},
        {"backend": [("127.0.0.2", 8080)], "backend-v2": [("127.0.0.3", 8080)]},
    )


def streams() -> list[AdsStream]:
    """This module's streams (by node id: other tests' streams may still await collection)."""
    gc.collect()
    return [o for o in gc.get_objects() if isinstance(o, AdsStream) and o.node_id in NODES]


def stream_tasks() -> list[asyncio.Task[object]]:
    """Tasks running a stream's own coroutines (beyond the gRPC call's task)."""
    return [
        t
        for t in asyncio.all_tasks()
        if getattr(t.get_coro(), "__qualname__", "").startswith("AdsStream.")
    ]


async def idle(plane: object) -> None:
    await until(lambda: not stream_tasks(), 5.0, "the streams' helper tasks to end")


def test_idle_sotw_streams_hold_no_queue_no_extra_task_and_share_bytes() -> None:
    async def body() -> None:
        async with running_plane(*(frontend(n) for n in NODES)) as plane:
            clients = [AdsClient(f"127.0.0.1:{plane.xds_port}", n) for n in NODES]
            for client in clients:
                await connect_all(client)
            for node in NODES:
                await acked(plane, node)
            await idle(plane)
            found = [s for s in streams() if isinstance(s, SotwStream)]
            assert sorted(s.node_id for s in found) == sorted(NODES)
            a, b = found
            for stream in found:
                assert not hasattr(stream, "__dict__")  # slotted
                assert stream._inbox is None and stream._helper is None
                assert not stream._busy
                snap = plane.cache.get(stream.node_id)
                assert snap is not None
                cds = snap.get(CDS)
                assert cds is not None
                # the snapshot's own mapping, not a copy per stream
                assert stream.types[CDS].sent is cds.resources
            # one set of endpoint names for both streams
            assert a.types[EDS].names == frozenset({"backend", "backend-v2"})
            assert a.types[EDS].names is b.types[EDS].names

            # a change is handled by a task that ends once the push is done
            publish(plane, *(frontend(n, {"backend": 1, "backend-v2": 1}) for n in NODES))
            for client in clients:
                rds = await client.recv()
                assert rds.type_url == RDS
                await client.ack(rds, ["outbound:127.0.0.1:15001"])
            for node in NODES:
                await acked(plane, node)
            await idle(plane)
            for stream in found:
                assert stream._inbox is None and stream._helper is None
            del found, a, b, stream
            for client in clients:
                await client.close()
            await until(lambda: not streams(), 5.0, "the streams to be released")

    run(body)


def test_delta_streams_are_slotted_idle_without_extra_task_and_share_names() -> None:
    async def body() -> None:
        async with running_plane(*(frontend(n) for n in NODES)) as plane:
            clients = [AdsClient(f"127.0.0.1:{plane.xds_port}", n, delta=True) for n in NODES]
            for client in clients:
                await client.delta_request(CDS)
                await client.ack(await client.recv())
                await client.delta_request(EDS, subscribe=["backend", "backend-v2"])
                await client.ack(await client.recv())
            for node in NODES:
                await acked(plane, node)
            await idle(plane)
            found = sorted(
                (s for s in streams() if isinstance(s, DeltaStream)), key=lambda s: s.node_id
            )
            a, b = found
            for stream in found:
                assert not hasattr(stream, "__dict__")
                assert stream._inbox is None and stream._helper is None
            assert a.types[EDS].names == frozenset({"backend", "backend-v2"})
            assert a.types[EDS].names is b.types[EDS].names
            # what each proxy holds (name -> digest): one mapping for both, not a copy each
            for type_url in (CDS, EDS):
                assert a.types[type_url].known is b.types[type_url].known
            assert set(a.types[EDS].known) == {"backend", "backend-v2"}
            # a change of subscription gives that stream another set; the other keeps its own
            await clients[0].delta_request(EDS, unsubscribe=["backend-v2"])
            await until(
                lambda: found[0].types[EDS].names == frozenset({"backend"}),
                5.0,
                "the unsubscribe",
            )
            assert "backend-v2" not in a.types[EDS].known
            assert b.types[EDS].names == frozenset({"backend", "backend-v2"})
            assert set(b.types[EDS].known) == {"backend", "backend-v2"}  # copied, not changed
            for client in clients:
                await client.close()

    run(body)


def test_shared_names_one_object_per_distinct_set_held_while_a_stream_holds_it() -> None:
    shared = SharedNames()
    first = shared.shared(frozenset({"a", "b"}))
    assert shared.shared(frozenset(["b", "a"])) is first
    assert shared.shared(None) is None
    other = shared.shared(frozenset({"c"}))
    assert len(shared) == 2
    del other
    gc.collect()
    assert len(shared) == 1  # no one holds {"c"}: forgotten
    assert shared.shared(frozenset({"a", "b"})) is first


def test_shared_memo_builds_once_per_key_held_while_a_stream_holds_it() -> None:
    memo = SharedMemo()
    built: list[str] = []

    def make(key: str) -> Digests:
        built.append(key)
        return Digests(key=key)

    first = memo.get("a", lambda: make("a"))
    assert memo.get("a", lambda: make("a")) is first and built == ["a"]
    memo.get("b", lambda: make("b"))  # held by no one
    gc.collect()
    assert len(memo) == 1
    assert memo.get("b", lambda: make("b")) == {"key": "b"} and built == ["a", "b", "b"]


@pytest.mark.parametrize("delta", [False, True])
def test_stream_ends_when_the_proxy_closes(delta: bool) -> None:
    async def body() -> None:
        async with running_plane(frontend(NODES[0])) as plane:
            client = AdsClient(f"127.0.0.1:{plane.xds_port}", NODES[0], delta=delta)
            if delta:
                await client.delta_request(CDS)
            else:
                await client.request(CDS)
            await client.recv()
            state = plane.registry.find(NODES[0])
            assert state is not None and state.streams == 1
            await client.close()
            await until(lambda: state.streams == 0, 5.0, "the stream to end")
            assert not stream_tasks()

    run(body)
