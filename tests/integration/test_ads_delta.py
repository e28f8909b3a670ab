"""Delta (incremental) ADS against the in-process server with a real gRPC client."""

from __future__ import annotations

from ads_client import AdsClient
from harness import acked, publish, run, running_plane
from polling import until
from proxy_configs import assignment, eds_cluster, outbound_proxy

from reconciler.resource_types import TypeUrl

CDS, EDS, LDS, RDS = TypeUrl.CLUSTER, TypeUrl.ENDPOINT, TypeUrl.LISTENER, TypeUrl.ROUTE
NODE = "default.frontend"
ROUTE = "outbound:127.0.0.1:15001"


def frontend(weights: dict[str, int] | None = None, services: dict | None = None) -> object:
    return outbound_proxy(
        NODE,
        ("127.0.0.1", 15001),
        weights or {"backend": 1},
        services or {"backend": [("127.0.0.2", 8080)], "backend-v2": [("127.0.0.3", 8080)]},
    )


async def connect_all(client: AdsClient) -> dict[TypeUrl, object]:
    got = {}
    await client.delta_request(CDS)
    got[CDS] = await client.recv()
    await client.delta_request(EDS, subscribe=["backend", "backend-v2"])
    await client.delta_request(LDS)
    got[EDS] = await client.recv()
    assert got[EDS].type_url == EDS
    await client.ack(got[CDS])
    await client.ack(got[EDS])
    got[LDS] = await client.recv()
    assert got[LDS].type_url == LDS
    await client.ack(got[LDS])
    await client.delta_request(RDS, subscribe=[ROUTE])
    got[RDS] = await client.recv()
    await client.ack(got[RDS])
    return got


def names(response: object) -> list[str]:
    return sorted(r.name for r in response.resources)  # type: ignore[attr-defined]


def test_initial_push_and_acks() -> None:
    async def body() -> None:
        async with running_plane(frontend()) as plane:
            client = AdsClient(f"127.0.0.1:{plane.xds_port}", NODE, delta=True)
            got = await connect_all(client)
            await acked(plane, NODE)
            assert names(got[CDS]) == ["backend", "backend-v2"]
            assert all(r.version for r in got[CDS].resources)
            assert names(got[RDS]) == [ROUTE]
            assert await client.nothing()
            [proxy] = plane.status_json()["proxies"]
            assert proxy["protocol"] == "delta"
            assert proxy["versions"]["LDS"]["acked"] == plane.cache.get(NODE).version(LDS)
            await client.close()

    run(body)


def test_changed_cluster_brings_its_assignment_and_removal_comes_last() -> None:
    async def body() -> None:
        async with running_plane(frontend()) as plane:
            client = AdsClient(f"127.0.0.1:{plane.xds_port}", NODE, delta=True)
            await connect_all(client)
            await acked(plane, NODE)
            changed = frontend()
            changed.resources[CDS] = [
                eds_cluster("backend", timeout_ms=2500),
                eds_cluster("backend-v2"),
            ]
            publish(plane, changed)
            cds = await client.recv()
            assert cds.type_url == CDS and names(cds) == ["backend"]
            eds = await client.recv()
            assert eds.type_url == EDS and names(eds) == ["backend"], "CLA must follow its cluster"
            await client.ack(cds)
            await client.ack(eds)
            assert await client.nothing()
            # drop backend-v2 and route to backend only: routes first, removal after
            publish(plane, frontend(services={"backend": [("127.0.0.2", 8080)]}))
            removals = {}
            for _ in range(2):
                response = await client.recv()
                removals[response.type_url] = list(response.removed_resources)
                await client.ack(response)
            # routes did not change, so nothing holds the cluster removal back
            assert removals == {str(CDS): ["backend-v2"], str(EDS): ["backend-v2"]}
            await client.close()

    run(body)


def test_cluster_removal_waits_for_routes() -> None:
    async def body() -> None:
        async with running_plane(frontend({"backend-v2": 1})) as plane:
            client = AdsClient(f"127.0.0.1:{plane.xds_port}", NODE, delta=True)
            await connect_all(client)
            await acked(plane, NODE)
            publish(plane, frontend({"backend": 1}, {"backend": [("127.0.0.2", 8080)]}))
            first = await client.recv()
            order = [first.type_url]
            # nothing removed from CDS before the new routes are ACKed
            assert not (first.type_url == CDS and first.removed_resources)
            seen = [first]
            for _ in range(3):
                if await client.nothing(0.2):
                    for response in seen:
                        await client.ack(response)
                    seen = []
                response = await client.recv()
                order.append(response.type_url)
                seen.append(response)
                if response.type_url == CDS:
                    assert list(response.removed_resources) == ["backend-v2"]
                    break
            assert order.index(str(RDS)) < order.index(str(CDS))
            await client.close()

    run(body)


def test_nack_is_recorded_and_not_resent() -> None:
    async def body() -> None:
        async with running_plane(frontend()) as plane:
            client = AdsClient(f"127.0.0.1:{plane.xds_port}", NODE, delta=True)
            await connect_all(client)
            await acked(plane, NODE)
            publish(plane, frontend({"backend": 1, "backend-v2": 3}))
            rds = await client.recv()
            await client.delta_request(RDS, nonce=rds.nonce, error="weights rejected")
            assert await client.nothing()
            proxy = plane.status_json()["proxies"][0]
            assert proxy["lastNack"]["type"] == "RDS"
            assert proxy["versions"]["RDS"]["nacked"] == rds.system_version_info
            assert proxy["versions"]["RDS"]["acked"] != rds.system_version_info
            await client.close()

    run(body)


def test_reconnect_with_initial_versions_gets_nothing() -> None:
    async def body() -> None:
        async with running_plane(frontend()) as plane:
            target = f"127.0.0.1:{plane.xds_port}"
            first = AdsClient(target, NODE, delta=True)
            got = await connect_all(first)
            await first.close()
            known = {t: {r.name: r.version for r in got[t].resources} for t in got}
            second = AdsClient(target, NODE, delta=True)
            await second.delta_request(CDS, initial=known[CDS])
            await second.delta_request(EDS, subscribe=sorted(known[EDS]), initial=known[EDS])
            await second.delta_request(LDS, initial=known[LDS])
            await second.delta_request(RDS, subscribe=[ROUTE], initial=known[RDS])
            assert await second.nothing(0.5)
            proxy = plane.status_json()["proxies"][0]
            assert proxy["versions"]["CDS"]["acked"] == plane.cache.get(NODE).version(CDS)
            # an unknown resource version is corrected, and only that one
            third = AdsClient(target, NODE, delta=True)
            await third.delta_request(CDS, initial={**known[CDS], "backend": "stale"})
            cds = await third.recv()
            assert names(cds) == ["backend"]
            await second.close()
            await third.close()

    run(body)


def test_unsubscribe_and_explicit_names() -> None:
    async def body() -> None:
        extra = frontend()
        extra.resources[EDS].append(assignment("spare", [("127.0.0.4", 1)]))
        async with running_plane(extra) as plane:
            client = AdsClient(f"127.0.0.1:{plane.xds_port}", NODE, delta=True)
            await client.delta_request(EDS, subscribe=["backend"])
            eds = await client.recv()
            assert names(eds) == ["backend"]
            await client.ack(eds)
            await client.delta_request(EDS, subscribe=["spare"], unsubscribe=["backend"])
            eds2 = await client.recv()
            assert names(eds2) == ["spare"]
            await client.close()

    run(body)


def test_unknown_node_is_listed_while_connected_and_forgotten_after() -> None:
    async def body() -> None:
        async with running_plane(frontend()) as plane:
            client = AdsClient(f"127.0.0.1:{plane.xds_port}", "default.typo", delta=True)
            await client.delta_request(CDS)
            assert await client.nothing()
            ids = {p["id"]: p for p in plane.status_json()["proxies"]}
            assert ids["default.typo"]["connected"]
            assert "names no Dataplane" in ids["default.typo"]["error"]
            await client.close()
            await until(
                lambda: {p["id"] for p in plane.status_json()["proxies"]} == {NODE},
                2,
                "the unknown proxy forgotten after it disconnected",
            )

    run(body)
