"""Snapshots: hand-encoded wire bytes, content versions, interning, consistency, publishing."""

from __future__ import annotations

import sys
from pathlib import Path

from envoy.extensions.filters.network.tcp_proxy.v3 import tcp_proxy_pb2 as envoy_tcp_proxy
from envoy.service.discovery.v3 import discovery_pb2 as envoy_discovery
from google.protobuf import any_pb2

from reconciler.resource_types import TypeUrl
from reconciler.snapshot import (
    ResponseCache,
    SnapshotCache,
    build_snapshot,
    build_snapshots,
    check_consistency,
    content_hash,
    wire,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from proxy_configs import (
    assignment,
    eds_cluster,
    http_listener,
    outbound_proxy,
    proxy_config,
    route_configuration,
)


def config(node: str = "default.a", weights: dict[str, int] | None = None) -> object:
    return outbound_proxy(
        node,
        ("127.0.0.1", 15001),
        weights or {"svc": 1},
        {"svc": [("127.0.0.2", 80)], "other": [("127.0.0.3", 80)]},
    )


def test_sotw_body_is_a_real_discovery_response() -> None:
    cache = SnapshotCache()
    snap = build_snapshot(config(), cache.interner)
    cds = snap.types[TypeUrl.CLUSTER]
    body = cache.responses.sotw_body(TypeUrl.CLUSTER, cds, None) + wire.nonce_suffix("7")
    parsed = envoy_discovery.DiscoveryResponse.FromString(body)
    expected = envoy_discovery.DiscoveryResponse(
        version_info=cds.version, type_url=str(TypeUrl.CLUSTER), nonce="7"
    )
    for name in sorted(cds.resources):
        packed = any_pb2.Any()
        packed.Pack(cds.resources[name].message())
        expected.resources.append(packed)
    assert parsed == expected
    assert cds.version == content_hash(cds.resources.values())
    subset = cache.responses.sotw_body(TypeUrl.CLUSTER, cds, frozenset({"svc", "missing"}))
    assert [r.value for r in envoy_discovery.DiscoveryResponse.FromString(subset).resources] == [
        expected.resources[1].value
    ]


def test_delta_body_is_a_real_delta_response() -> None:
    cache = SnapshotCache()
    snap = build_snapshot(config(), cache.interner)
    eds = snap.types[TypeUrl.ENDPOINT]
    body = wire.delta_body(
        eds.version, str(TypeUrl.ENDPOINT), [eds.resources["svc"].delta_field], ["gone"]
    ) + wire.nonce_suffix("9", delta=True)
    parsed = envoy_discovery.DeltaDiscoveryResponse.FromString(body)
    assert parsed.system_version_info == eds.version
    assert parsed.nonce == "9" and list(parsed.removed_resources) == ["gone"]
    [resource] = parsed.resources
    assert resource.name == "svc" and resource.version == eds.resources["svc"].digest
    assert resource.resource.type_url == str(TypeUrl.ENDPOINT)
    assert resource.resource.value == assignment("svc", [("127.0.0.2", 80)]).SerializeToString(
        deterministic=True
    )


def test_identical_resources_are_serialized_once_and_shared() -> None:
    cache = SnapshotCache()
    a = build_snapshot(config("default.a"), cache.interner)
    b = build_snapshot(config("default.b"), cache.interner)
    assert a.types[TypeUrl.CLUSTER].resources["svc"] is b.types[TypeUrl.CLUSTER].resources["svc"]
    assert a.version(TypeUrl.CLUSTER) == b.version(TypeUrl.CLUSTER)
    # in one build, the whole set of a type is shared too (one object per distinct content)
    together, _ = build_snapshots(
        {
            "default.a": config("default.a"),
            "default.b": config("default.b"),
            "default.c": config("default.c", weights={"other": 1}),
        },
        cache.interner,
    )
    one, two, other = together["default.a"], together["default.b"], together["default.c"]
    assert one.types[TypeUrl.CLUSTER] is two.types[TypeUrl.CLUSTER]
    assert one.types[TypeUrl.ROUTE] is two.types[TypeUrl.ROUTE]
    assert other.types[TypeUrl.ROUTE] is not one.types[TypeUrl.ROUTE]
    assert other.version(TypeUrl.ROUTE) != one.version(TypeUrl.ROUTE)
    body_a = cache.responses.sotw_body(TypeUrl.CLUSTER, a.types[TypeUrl.CLUSTER], None)
    assert len(cache.responses) == 0  # asked for once: not kept
    body_b = cache.responses.sotw_body(TypeUrl.CLUSTER, b.types[TypeUrl.CLUSTER], None)
    assert body_b == body_a and len(cache.responses) == 1  # asked for again: kept
    again = cache.responses.sotw_body(TypeUrl.CLUSTER, a.types[TypeUrl.CLUSTER], None)
    assert again is body_b and cache.responses.hits == 1


def test_versions_follow_content_only() -> None:
    cache = SnapshotCache()
    one = build_snapshot(config(), cache.interner)
    again = build_snapshot(config(), SnapshotCache().interner)
    assert all(one.version(t) == again.version(t) for t in TypeUrl)
    changed = build_snapshot(config(weights={"other": 1}), cache.interner)
    assert changed.version(TypeUrl.ROUTE) != one.version(TypeUrl.ROUTE)
    for unchanged in (TypeUrl.CLUSTER, TypeUrl.ENDPOINT, TypeUrl.LISTENER):
        assert changed.version(unchanged) == one.version(unchanged)


def test_publish_wakes_only_changed_proxies_and_keeps_versions() -> None:
    cache = SnapshotCache()
    woken: list[str] = []
    for node in ("default.a", "default.b"):
        cache.watch(node, lambda n=node: woken.append(n))
    first, _ = build_snapshots(
        {"default.a": config("default.a"), "default.b": config("default.b")},
        cache.interner,
    )
    result = cache.publish(first)
    assert sorted(result.changed) == ["default.a", "default.b"] and cache.ready
    old_a = cache.get("default.a")
    assert cache.versions() == sorted(
        {first[n].version(t) for n in ("default.a", "default.b") for t in TypeUrl}
    )
    woken.clear()
    # a later revision with the same content: nothing changes, the same snapshot serves on
    same, _ = build_snapshots(
        {"default.a": config("default.a"), "default.b": config("default.b")}, cache.interner
    )
    result = cache.publish(same)
    assert result.changed == () and woken == []
    assert cache.get("default.a") is old_a
    # one proxy changes routes only: its other types keep their versions
    partial, _ = build_snapshots({"default.a": config("default.a", {"other": 1})}, cache.interner)
    result = cache.publish(partial)
    assert result.changed == ("default.a",) and result.removed == ("default.b",)
    assert sorted(woken) == ["default.a", "default.b"]
    snap = cache.get("default.a")
    assert snap.version(TypeUrl.ROUTE) != old_a.version(TypeUrl.ROUTE)
    for unchanged in (TypeUrl.CLUSTER, TypeUrl.ENDPOINT, TypeUrl.LISTENER):
        assert snap.version(unchanged) == old_a.version(unchanged)
    assert cache.get("default.b") is None


def test_consistency_finds_every_dangling_reference() -> None:
    assert check_consistency(config()) == []
    tcp = envoy_tcp_proxy.TcpProxy(stat_prefix="db", cluster="db")
    tcp_listener = http_listener("outbound:127.0.0.1:5432", ("127.0.0.1", 5432), "x")
    tcp_listener.filter_chains[0].filters[0].typed_config.Pack(tcp)
    broken = proxy_config(
        "default.a",
        listeners=[http_listener("l1", ("127.0.0.1", 1), "no-such-route"), tcp_listener],
        routes=[route_configuration("r1", {"svc": 1, "ghost": 1})],
        clusters=[eds_cluster("svc")],
    )
    messages = sorted(str(p) for p in check_consistency(broken))
    assert messages == [
        "default.a: CDS 'svc': EDS cluster has no assignment 'svc'",
        "default.a: LDS 'l1': uses unknown route configuration 'no-such-route'",
        "default.a: LDS 'outbound:127.0.0.1:5432': forwards to unknown cluster 'db'",
        "default.a: RDS 'r1': routes to unknown cluster 'ghost'",
    ]
    snapshots, problems = build_snapshots({"default.a": broken}, SnapshotCache().interner)
    assert snapshots == {} and len(problems) == 4


def test_response_cache_keeps_no_body_asked_for_once() -> None:
    cache = ResponseCache(max_seen=4)  # 8 proxies, each with its own routes
    snaps = [
        build_snapshot(config(f"default.p{i}", weights={f"s{i}": 1}), SnapshotCache().interner)
        for i in range(8)
    ]
    bodies = [cache.sotw_body(TypeUrl.ROUTE, s.types[TypeUrl.ROUTE], None) for s in snaps]
    assert len(cache) == 0 and cache.held_bytes == 0 and len(cache._seen) == 4  # bounded
    # the last four are remembered: asked for again, they are kept (same bytes)
    again = [cache.sotw_body(TypeUrl.ROUTE, s.types[TypeUrl.ROUTE], None) for s in snaps[4:]]
    assert again == bodies[4:] and len(cache) == 4


def test_response_cache_holds_at_most_its_byte_bound() -> None:
    cache = SnapshotCache()
    cache.responses = ResponseCache(max_bytes=2_000)
    bodies = []
    for i in range(40):  # 40 proxies, each with its own listener-like endpoint set
        snap = build_snapshot(config(f"default.p{i}", weights={f"s{i}": 1}), cache.interner)
        for type_url in (TypeUrl.CLUSTER, TypeUrl.ROUTE):
            cache.responses.sotw_body(type_url, snap.types[type_url], None)  # remembered
            bodies.append(cache.responses.sotw_body(type_url, snap.types[type_url], None))
            assert cache.responses.held_bytes <= 2_000
    assert sum(len(b) for b in bodies) > 2_000 and 0 < len(cache.responses) < len(bodies)
    # a body still held is shared; one dropped is rebuilt with the same bytes
    snap = build_snapshot(config("default.p0", weights={"s0": 1}), cache.interner)
    assert (
        cache.responses.sotw_body(TypeUrl.CLUSTER, snap.types[TypeUrl.CLUSTER], None) == bodies[0]
    )
