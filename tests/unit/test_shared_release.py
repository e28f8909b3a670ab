"""Between compiles the compiler's shared caches hold encodings, not messages; an entry a
compile uses again is decoded once into an equal message shared by that compile."""

from __future__ import annotations

from envoy.config.cluster.v3 import cluster_pb2
from google.protobuf.message import Message

from reconciler.compile.shared import KEEP_RUNS, Released, Shared


def _cluster(name: str) -> cluster_pb2.Cluster:
    cluster = cluster_pb2.Cluster(name=name)
    cluster.connect_timeout.seconds = 5
    return cluster


def test_released_entries_hold_no_message_and_decode_equal() -> None:
    shared = Shared()
    shared.start_run()
    built = shared.clusters.get(("cluster", "a"), lambda: _cluster("a"))
    routes = shared.routes.get(("routes", "a"), lambda: (_cluster("r"), ["backend"], 3))
    shared.release()

    for cache in (shared.clusters, shared.routes):
        assert all(type(v) is Released for v in cache.entries.values())
        assert not any(
            isinstance(part, Message)
            for v in cache.entries.values()
            for part in (v.value if type(v.value) is tuple else (v.value,))
        )

    shared.start_run()
    again = shared.clusters.get(("cluster", "a"), lambda: _cluster("other"))
    assert again == built and again is not built, "decoded, not built again"
    assert shared.clusters.get(("cluster", "a"), lambda: _cluster("other")) is again
    assert shared.clusters.counter.built == 0 and shared.clusters.counter.shared == 2
    assert shared.routes.get(("routes", "a"), lambda: ()) == routes

    released = shared.clusters.restored[("cluster", "a")]
    shared.release()
    assert shared.clusters.entries[("cluster", "a")] is released, "the encoding is reused"
    assert shared.assignments.entries == {}


def test_stored_keys_share_equal_parts() -> None:
    shared = Shared()
    shared.start_run()

    def conf() -> tuple[tuple[str, str], ...]:  # a new tuple (and string) on every call
        return (("MeshTimeout", "".join(['{"idleTimeout":', '"1h"}'])),)

    one, other = conf(), conf()
    assert one == other and one is not other and one[0][1] is not other[0][1]
    shared.clusters.get(("a", one), lambda: _cluster("a"))
    shared.clusters.get(("b", other), lambda: _cluster("b"))
    first, second = list(shared.clusters.entries)
    assert first[1] is second[1], "equal nested tuples are stored once"
    shared.release()
    shared.clusters.get(("c", conf()), lambda: _cluster("c"))
    # the new key's parts only: "c", "MeshTimeout", the JSON, two conf tuples, the key
    assert len(shared.clusters.parts) == 6


def test_a_released_entry_stays_while_a_proxy_of_its_run_is_served() -> None:
    shared = Shared()
    first = shared.start_run()
    shared.clusters.get("old", lambda: _cluster("old"))
    shared.release()
    second = shared.start_run(frozenset({first}))
    shared.clusters.get("new", lambda: _cluster("new"))
    shared.release()
    for _ in range(KEEP_RUNS + 2):  # proxies of both runs are still served
        shared.start_run(frozenset({first, second}))
        shared.release()
    assert set(shared.clusters.entries) == {"old", "new"}
    shared.start_run(frozenset({second}))  # every proxy of the first run was recompiled
    assert set(shared.clusters.entries) == {"new"}
    shared.start_run(frozenset())
    assert shared.clusters.entries == {}
