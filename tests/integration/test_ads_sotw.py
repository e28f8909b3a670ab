"""State-of-the-World ADS against the in-process server with a real gRPC client."""

from __future__ import annotations

import grpc
import pytest
from ads_client import AdsClient
from harness import acked, publish, run, running_plane
from proxy_configs import outbound_proxy

from reconciler.resource_types import TypeUrl

CDS, EDS, LDS, RDS = TypeUrl.CLUSTER, TypeUrl.ENDPOINT, TypeUrl.LISTENER, TypeUrl.ROUTE
NODE = "default.frontend"


def frontend(weights: dict[str, int] | None = None, port: int = 15001) -> object:
    return outbound_proxy(
        NODE,
        ("127.0.0.1", port),
        weights or {"backend": 1},
        {"backend": [("127.0.0.2", 8080)], "backend-v2": [("127.0.0.3", 8080)]},
    )


async def connect_all(client: AdsClient) -> dict[TypeUrl, object]:
    """Walk the Envoy start-up sequence: CDS, EDS, LDS, RDS, ACKing each."""
    got = {}
    await client.request(CDS)
    cds = got[CDS] = await client.recv()
    await client.request(EDS, ["backend", "backend-v2"])
    await client.request(LDS)
    eds = got[EDS] = await client.recv()
    assert eds.type_url == EDS
    await client.ack(cds)
    await client.ack(eds, ["backend", "backend-v2"])
    lds = got[LDS] = await client.recv()
    assert lds.type_url == LDS  # listeners only after clusters and endpoints are ACKed
    await client.ack(lds)
    await client.request(RDS, ["outbound:127.0.0.1:15001"])
    got[RDS] = await client.recv()
    await client.ack(got[RDS], ["outbound:127.0.0.1:15001"])
    return got


def test_initial_push_ack_and_status() -> None:
    async def body() -> None:
        async with running_plane(frontend()) as plane:
            client = AdsClient(f"127.0.0.1:{plane.xds_port}", NODE)
            got = await connect_all(client)
            await acked(plane, NODE)
            assert len(got[CDS].resources) == 2
            assert {r.type_url for r in got[CDS].resources} == {str(CDS)}
            assert got[CDS].version_info == plane.cache.get(NODE).version(CDS)
            assert await client.nothing()
            [proxy] = plane.status_json()["proxies"]
            assert proxy["connected"] and proxy["protocol"] == "sotw"
            for short in ("CDS", "EDS", "LDS", "RDS"):
                versions = proxy["versions"][short]
                assert versions["sent"] == versions["acked"] != ""
                assert versions["nacked"] == ""
            await client.close()

    run(body)


def test_change_pushes_only_changed_types_and_nack_is_not_resent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def body() -> None:
        async with running_plane(frontend()) as plane:
            client = AdsClient(f"127.0.0.1:{plane.xds_port}", NODE)
            got = await connect_all(client)
            await acked(plane, NODE)
            before = plane.cache.get(NODE)
            publish(plane, frontend({"backend": 1, "backend-v2": 1}))
            rds = await client.recv()
            assert rds.type_url == RDS  # only routes changed
            assert rds.version_info != got[RDS].version_info
            assert plane.cache.get(NODE).version(CDS) == before.version(CDS)
            await client.request(
                RDS,
                ["outbound:127.0.0.1:15001"],
                version=got[RDS].version_info,
                nonce=rds.nonce,
                error="route rejected for the test",
            )
            assert await client.nothing(), "a NACKed version must not be re-sent"
            proxy = plane.status_json()["proxies"][0]
            assert proxy["versions"]["RDS"]["nacked"] == rds.version_info
            assert proxy["versions"]["RDS"]["acked"] == got[RDS].version_info
            assert proxy["lastNack"]["message"] == "route rejected for the test"
            assert f"error[RC603] {NODE} NACKed RDS" in caplog.text
            # publishing the same content again pushes nothing
            publish(plane, frontend({"backend": 1, "backend-v2": 1}))
            assert await client.nothing()
            # a new version is pushed again
            publish(plane, frontend({"backend-v2": 1}))
            rds2 = await client.recv()
            assert rds2.type_url == RDS and rds2.version_info not in (
                rds.version_info,
                got[RDS].version_info,
            )
            await client.close()

    run(body)


def test_rerequest_of_acked_nonce_is_answered() -> None:
    """Envoy re-sends an EDS request with an ACKed nonce when a changed cluster warms."""

    async def body() -> None:
        async with running_plane(frontend()) as plane:
            client = AdsClient(f"127.0.0.1:{plane.xds_port}", NODE)
            got = await connect_all(client)
            await acked(plane, NODE)
            eds = got[EDS]
            await client.request(
                EDS, ["backend", "backend-v2"], version=eds.version_info, nonce=eds.nonce
            )
            again = await client.recv()
            assert again.type_url == EDS and again.nonce != eds.nonce
            assert again.version_info == eds.version_info
            assert len(again.resources) == 2
            await client.close()

    run(body)


def test_subscription_names_select_resources() -> None:
    async def body() -> None:
        async with running_plane(frontend()) as plane:
            client = AdsClient(f"127.0.0.1:{plane.xds_port}", NODE)
            await client.request(CDS)
            cds = await client.recv()
            await client.ack(cds)
            await client.request(EDS, ["backend"])
            eds = await client.recv()
            assert [r.value for r in eds.resources]
            assert len(eds.resources) == 1
            await client.request(
                EDS, ["backend", "backend-v2"], version=eds.version_info, nonce=eds.nonce
            )
            eds2 = await client.recv()
            assert len(eds2.resources) == 2
            await client.close()

    run(body)


def test_reconnect_with_current_versions_gets_no_push() -> None:
    async def body() -> None:
        async with running_plane(frontend()) as plane:
            target = f"127.0.0.1:{plane.xds_port}"
            first = AdsClient(target, NODE)
            got = await connect_all(first)
            await first.close()
            pushes_before = _pushes(plane)
            second = AdsClient(target, NODE)
            await second.request(CDS, version=got[CDS].version_info)
            await second.request(LDS, version=got[LDS].version_info)
            await second.request(EDS, ["backend", "backend-v2"], version=got[EDS].version_info)
            await second.request(RDS, ["outbound:127.0.0.1:15001"], version=got[RDS].version_info)
            assert await second.nothing(0.5)
            assert _pushes(plane) == pushes_before
            proxy = plane.status_json()["proxies"][0]
            assert proxy["versions"]["CDS"]["acked"] == got[CDS].version_info
            # a reconnect with an old version gets the current one
            third = AdsClient(target, NODE)
            await third.request(CDS, version="old")
            cds = await third.recv()
            assert cds.version_info == got[CDS].version_info
            await second.close()
            await third.close()

    run(body)


def test_unknown_node_gets_nothing_and_a_status_entry(caplog: pytest.LogCaptureFixture) -> None:
    async def body() -> None:
        async with running_plane(frontend()) as plane:
            client = AdsClient(f"127.0.0.1:{plane.xds_port}", "default.nobody")
            await client.request(CDS)
            assert await client.nothing()
            proxies = {p["id"]: p for p in plane.status_json()["proxies"]}
            assert "names no Dataplane" in proxies["default.nobody"]["error"]
            assert "error[RC601] " in caplog.text
            assert proxies["default.nobody"]["connected"]
            assert proxies[NODE]["connected"] is False
            # once a revision names it, it is served on the open stream
            publish(
                plane,
                frontend(),
                outbound_proxy(
                    "default.nobody", ("127.0.0.1", 1), {"a": 1}, {"a": [("127.0.0.9", 1)]}
                ),
            )
            cds = await client.recv()
            assert cds.type_url == CDS and len(cds.resources) == 1
            await client.close()

    run(body)


def test_a_stream_without_node_id_is_refused() -> None:
    async def body() -> None:
        async with running_plane(frontend()) as plane:
            client = AdsClient(f"127.0.0.1:{plane.xds_port}", "")
            await client.request(CDS)
            with pytest.raises(EOFError):
                await client.recv()
            assert await client.call.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "[RC604] the first request must carry node.id" in await client.call.details()
            assert plane.status_json()["proxies"][0]["id"] == NODE  # nothing registered
            await client.close()

    run(body)


def _pushes(plane: object) -> float:
    text = plane.metrics.render().decode()  # type: ignore[attr-defined]
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("reconciler_xds_pushes_total{")
    )


def test_removed_cluster_stays_until_routes_settle_also_after_a_reconnect() -> None:
    async def body() -> None:
        async with running_plane(frontend({"backend-v2": 1})) as plane:
            target = f"127.0.0.1:{plane.xds_port}"
            first = AdsClient(target, NODE)
            got = await connect_all(first)
            await acked(plane, NODE)
            await first.close()
            client = AdsClient(target, NODE)
            await client.request(CDS, version=got[CDS].version_info)
            await client.request(EDS, ["backend", "backend-v2"], version=got[EDS].version_info)
            await client.request(LDS, version=got[LDS].version_info)
            await client.request(RDS, ["outbound:127.0.0.1:15001"], version=got[RDS].version_info)
            assert await client.nothing()
            # route to backend only and drop backend-v2: the route moves first
            publish(
                plane,
                outbound_proxy(
                    NODE, ("127.0.0.1", 15001), {"backend": 1}, {"backend": [("127.0.0.2", 8080)]}
                ),
            )
            order = []
            while True:
                response = await client.recv()
                order.append(response.type_url)
                if response.type_url == CDS:
                    break
                names = {
                    str(EDS): ["backend", "backend-v2"],
                    str(RDS): ["outbound:127.0.0.1:15001"],
                }
                await client.ack(response, names.get(response.type_url, []))
            cds = response
            assert order.index(str(RDS)) < order.index(str(CDS)), order
            assert len(cds.resources) == 1  # backend-v2 removed only after the routes moved
            await client.close()

    run(body)
