"""The control plane's delivery metrics, scraped from ``/metrics`` of the in-process server
while real gRPC clients ACK and NACK: per proxy and type, and gone once the proxy is."""

from __future__ import annotations

import asyncio

from ads_client import AdsClient
from harness import acked, publish, run, running_plane
from polling import until
from proxy_configs import outbound_proxy
from scrape import Scrape, scrape

from reconciler.resource_types import TypeUrl

CDS, EDS, LDS, RDS = TypeUrl.CLUSTER, TypeUrl.ENDPOINT, TypeUrl.LISTENER, TypeUrl.ROUTE
NODE = "default.frontend"
OTHER = "other.frontend"
ROUTE = "outbound:127.0.0.1:15001"
SERVICES = {"backend": [("127.0.0.2", 8080)], "backend-v2": [("127.0.0.3", 8080)]}
ACK = "reconciler_xds_publish_to_ack_seconds"
NACKS = "reconciler_xds_proxy_nacks_total"
GATE_WAIT = 0.3
"""How long the client holds its CDS and EDS ACKs: listeners wait for them."""


def frontend(node: str = NODE, weights: dict[str, int] | None = None) -> object:
    return outbound_proxy(node, ("127.0.0.1", 15001), weights or {"backend": 1}, SERVICES)


async def connect_sotw(client: AdsClient) -> dict[TypeUrl, object]:
    """Envoy's start-up, holding the CDS and EDS ACKs for GATE_WAIT seconds."""
    got = {}
    await client.request(CDS)
    got[CDS] = await client.recv()
    await client.request(EDS, list(SERVICES))
    await client.request(LDS)
    got[EDS] = await client.recv()
    await asyncio.sleep(GATE_WAIT)
    await client.ack(got[CDS])
    await client.ack(got[EDS], list(SERVICES))
    got[LDS] = await client.recv()
    assert got[LDS].type_url == LDS  # type: ignore[attr-defined]
    await client.ack(got[LDS])
    await client.request(RDS, [ROUTE])
    got[RDS] = await client.recv()
    await client.ack(got[RDS], [ROUTE])
    return got


async def connect_delta(client: AdsClient) -> dict[TypeUrl, object]:
    got = {}
    await client.delta_request(CDS)
    got[CDS] = await client.recv()
    await client.delta_request(EDS, subscribe=list(SERVICES))
    await client.delta_request(LDS)
    got[EDS] = await client.recv()
    await asyncio.sleep(GATE_WAIT)
    await client.ack(got[CDS])
    await client.ack(got[EDS])
    got[LDS] = await client.recv()
    await client.ack(got[LDS])
    await client.delta_request(RDS, subscribe=[ROUTE])
    got[RDS] = await client.recv()
    await client.ack(got[RDS])
    return got


def labels(node: str, type_url: TypeUrl) -> dict[str, str]:
    return {"mesh": node.partition(".")[0], "proxy": node, "type": type_url.short}


def proxy_series(metrics: Scrape, node: str) -> list[str]:
    return sorted(
        f"{name}{sorted(have)}" for name, have in metrics.samples if ("proxy", node) in have
    )


async def gone(port: int, node: str) -> None:
    async def check() -> bool:
        return not proxy_series(await scrape(port), node)

    deadline = asyncio.get_running_loop().time() + 5
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, f"{node}'s series stay"
        await asyncio.sleep(0.05)


def check_acks_measured_from_publish(metrics: Scrape, node: str) -> None:
    """One ACK per type; listeners count the time they waited for the clusters' ACKs,
    which the write-to-ACK histogram does not."""
    for type_url in (CDS, EDS, LDS, RDS):
        assert metrics.value(f"{ACK}_count", **labels(node, type_url)) == 1.0, type_url
        assert metrics.value(f"{NACKS}", **labels(node, type_url)) == 0.0, type_url
    lds_ack = metrics.value(f"{ACK}_sum", **labels(node, LDS))
    assert lds_ack is not None and lds_ack >= GATE_WAIT
    assert metrics.value(f"{ACK}_bucket", **labels(node, LDS), le="0.1") == 0.0
    assert metrics.value(f"{ACK}_bucket", **labels(node, LDS), le="120.0") == 1.0
    write_to_ack = metrics.value("reconciler_xds_push_duration_seconds_sum", type="LDS")
    assert write_to_ack is not None and lds_ack - write_to_ack >= GATE_WAIT * 0.9


def test_sotw_acks_fill_the_histogram_nacks_count_and_series_go_with_the_proxy() -> None:
    async def body() -> None:
        async with running_plane(frontend(), frontend(OTHER)) as plane:
            client = AdsClient(f"127.0.0.1:{plane.xds_port}", NODE)
            other = AdsClient(f"127.0.0.1:{plane.xds_port}", OTHER)
            await connect_sotw(client)
            await connect_sotw(other)
            await acked(plane, NODE)
            await acked(plane, OTHER)
            metrics = await scrape(plane.http_port)
            check_acks_measured_from_publish(metrics, NODE)
            check_acks_measured_from_publish(metrics, OTHER)
            assert metrics.value("reconciler_xds_connected_proxies", protocol="sotw") == 2.0

            # a new route is published: NACKed by one proxy, ACKed by the other
            publish(plane, frontend(weights={"backend-v2": 1}), frontend(OTHER, {"backend-v2": 1}))
            rds = await client.recv()
            await client.request(
                RDS, [ROUTE], version=rds.version_info, nonce=rds.nonce, error="bad route"
            )
            other_rds = await other.recv()
            await asyncio.sleep(0.1)
            await other.ack(other_rds, [ROUTE])
            await until(
                lambda: plane.registry.find(NODE).of(RDS).nacked == rds.version_info,  # type: ignore[union-attr]
                5,
                "the NACK",
            )
            await acked(plane, OTHER)
            metrics = await scrape(plane.http_port)
            assert metrics.value(NACKS, **labels(NODE, RDS)) == 1.0
            assert metrics.value(f"{ACK}_count", **labels(NODE, RDS)) == 1.0
            assert metrics.value(NACKS, **labels(OTHER, RDS)) == 0.0
            assert metrics.value(f"{ACK}_count", **labels(OTHER, RDS)) == 2.0
            assert metrics.value("reconciler_xds_nacks_total", type="RDS") == 1.0

            # the NACKing proxy leaves: its series go, the other's stay
            await client.close()
            await gone(plane.http_port, NODE)
            metrics = await scrape(plane.http_port)
            assert metrics.value(f"{ACK}_count", **labels(OTHER, RDS)) == 2.0
            assert metrics.value("reconciler_xds_connected_proxies", protocol="sotw") == 1.0
            await other.close()
            await gone(plane.http_port, OTHER)

    run(body)


def test_delta_acks_and_nacks_per_proxy_and_series_dropped_on_disconnect() -> None:
    async def body() -> None:
        async with running_plane(frontend()) as plane:
            client = AdsClient(f"127.0.0.1:{plane.xds_port}", NODE, delta=True)
            await connect_delta(client)
            await acked(plane, NODE)
            metrics = await scrape(plane.http_port)
            check_acks_measured_from_publish(metrics, NODE)
            assert metrics.value("reconciler_xds_connected_proxies", protocol="delta") == 1.0

            publish(plane, frontend(weights={"backend-v2": 1}))
            rds = await client.recv()
            await client.delta_request(RDS, nonce=rds.nonce, error="bad route")
            await until(
                lambda: plane.registry.find(NODE).of(RDS).nacked != "",  # type: ignore[union-attr]
                5,
                "the NACK",
            )
            metrics = await scrape(plane.http_port)
            assert metrics.value(NACKS, **labels(NODE, RDS)) == 1.0
            assert metrics.value(f"{ACK}_count", **labels(NODE, RDS)) == 1.0

            await client.close()
            await gone(plane.http_port, NODE)
            metrics = await scrape(plane.http_port)
            assert metrics.value("reconciler_xds_connected_proxies", protocol="delta") == 0.0
            assert metrics.value("reconciler_xds_nacks_total", type="RDS") == 1.0  # kept

    run(body)


def test_a_reconnect_keeps_the_series_until_the_last_stream_ends() -> None:
    """A proxy may reconnect before its old stream is gone: the series belong to the proxy."""

    async def body() -> None:
        async with running_plane(frontend()) as plane:
            first = AdsClient(f"127.0.0.1:{plane.xds_port}", NODE)
            await connect_sotw(first)
            await acked(plane, NODE)
            second = AdsClient(f"127.0.0.1:{plane.xds_port}", NODE, delta=True)
            await second.delta_request(CDS)
            await second.ack(await second.recv())
            await until(lambda: plane.registry.find(NODE).streams == 2, 5, "two streams")  # type: ignore[union-attr]
            await first.close()
            await until(lambda: plane.registry.find(NODE).streams == 1, 5, "one stream")  # type: ignore[union-attr]
            metrics = await scrape(plane.http_port)
            assert metrics.value(f"{ACK}_count", **labels(NODE, CDS)) == 2.0
            assert metrics.value(f"{ACK}_count", **labels(NODE, LDS)) == 1.0
            await second.close()
            await gone(plane.http_port, NODE)

    run(body)
