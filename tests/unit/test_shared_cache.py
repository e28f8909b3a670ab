"""The compiler's content-keyed caches drop past generations and keep what proxies hold."""

from __future__ import annotations

from typing import Any

from envoy.config.cluster.v3 import cluster_pb2

from reconciler.compile.shared import KEEP_RUNS, SharedCache, held_elsewhere


def test_held_elsewhere_sees_references_outside_the_cache() -> None:
    cache = SharedCache()
    message = cache.get("a", lambda: cluster_pb2.Cluster(name="a"))
    route, _trace = cache.get("r", lambda: (cluster_pb2.Cluster(name="r"), ("trace",)))
    # (plain names: pytest's assertion rewriting keeps the values an assert expression read)
    before = [held_elsewhere(cache.entries[key]) for key in ("a", "r")]
    del message, route, _trace
    after = [held_elsewhere(cache.entries[key]) for key in ("a", "r")]
    assert before == [True, True]
    assert after == [False, False]


def test_unused_entries_go_when_nobody_holds_them_and_stay_while_a_proxy_does() -> None:
    cache = SharedCache()
    proxy: list[Any] = [cache.get("kept", lambda: cluster_pb2.Cluster(name="kept"))]
    cache.get("past", lambda: cluster_pb2.Cluster(name="past"))
    cache.get("route", lambda: (cluster_pb2.Cluster(name="route"), ()))
    for _ in range(KEEP_RUNS):
        cache.next_run()
    assert set(cache.entries) == {"kept", "past", "route"}  # used within KEEP_RUNS runs
    cache.next_run()
    assert set(cache.entries) == {"kept"}  # held by a proxy, whatever its age
    for _ in range(10):
        cache.next_run()
    assert cache.get("kept", lambda: cluster_pb2.Cluster(name="new")) is proxy[0]
    proxy.clear()
    for _ in range(KEEP_RUNS + 1):
        cache.next_run()
    assert cache.entries == {}
