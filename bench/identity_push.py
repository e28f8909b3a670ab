"""Push latency with and without mesh mTLS (SDS), over real gRPC Delta ADS streams.

Run: .venv/bin/python bench/identity_push.py [--proxies 200]

Each simulated proxy subscribes to every type its config holds (CDS/LDS wildcard, EDS, RDS
and SDS by name) and ACKs at once. Measured: publish -> every proxy has received and ACKed
every type (initial push), with and without mTLS; then a certificate rotation of every proxy
(only SDS changes).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# bench/ holds scripts whose names (validate.py) shadow packages of xds-protos: run from the
# repository root instead of this directory.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import grpc  # noqa: E402
from envoy.service.discovery.v3 import ads_pb2_grpc  # noqa: E402
from envoy.service.discovery.v3 import discovery_pb2 as envoy_discovery  # noqa: E402

from reconciler.compile.compiler import compile_resources  # noqa: E402
from reconciler.identity.provider import IdentityOptions, IdentityProvider  # noqa: E402
from reconciler.identity.serving import attach_secrets, proxy_identities  # noqa: E402
from reconciler.load import SourceFile  # noqa: E402
from reconciler.pipeline import analyze  # noqa: E402
from reconciler.resource_types import ProxyConfig, TypeUrl, resource_name  # noqa: E402
from reconciler.serve.server import ControlPlane  # noqa: E402
from reconciler.snapshot import build_snapshots  # noqa: E402

SERVICES = 20


def mesh_yaml(proxies: int, mtls: bool) -> str:
    docs = ["type: Mesh\nname: default\n"]
    if mtls:
        docs[0] += "mtls: { enabledBackend: ca-1, backends: [ { name: ca-1, type: builtin } ] }\n"
    for i in range(proxies):
        svc, a, b = f"svc-{i % SERVICES}", f"svc-{(i + 1) % SERVICES}", f"svc-{(i + 2) % SERVICES}"
        docs.append(
            f"type: Dataplane\nmesh: default\nname: dp-{i}\nnetworking:\n"
            f"  address: 10.0.{i // 250}.{i % 250 + 1}\n"
            f"  inbound:\n    - port: 8080\n      tags: {{ kuma.io/service: {svc}, kuma.io/protocol: http }}\n"
            f"  outbound:\n    - port: 10001\n      tags: {{ kuma.io/service: {a} }}\n"
            f"    - port: 10002\n      tags: {{ kuma.io/service: {b} }}\n"
        )
    return "---\n".join(docs)


class Client:
    def __init__(self, port: int, config: ProxyConfig) -> None:
        self.config = config
        self.channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        self.call = ads_pb2_grpc.AggregatedDiscoveryServiceStub(
            self.channel
        ).DeltaAggregatedResources()
        self.expected = {t for t, ms in config.resources.items() if ms}
        self.received: dict[TypeUrl, int] = {}
        self.event = asyncio.Event()
        self.wanted: set[TypeUrl] = set()
        self._reader: Any = None

    async def start(self) -> None:
        first = True
        for type_url in (
            TypeUrl.CLUSTER,
            TypeUrl.ENDPOINT,
            TypeUrl.SECRET,
            TypeUrl.LISTENER,
            TypeUrl.ROUTE,
        ):
            if type_url not in self.expected:
                continue
            names = (
                []
                if type_url in (TypeUrl.CLUSTER, TypeUrl.LISTENER)
                else [resource_name(m) for m in self.config.of(type_url)]
            )
            req = envoy_discovery.DeltaDiscoveryRequest(
                type_url=str(type_url), resource_names_subscribe=names
            )
            if first:
                req.node.id = self.config.node_id
                first = False
            await self.call.write(req)
        self._reader = asyncio.ensure_future(self._read())

    def expect(self, types: set[TypeUrl]) -> None:
        self.wanted = set(types)
        self.event.clear()

    async def _read(self) -> None:
        while True:
            try:
                response = await self.call.read()
            except (grpc.RpcError, asyncio.CancelledError):
                return
            if response is grpc.aio.EOF:
                return
            type_url = TypeUrl(response.type_url)
            await self.call.write(
                envoy_discovery.DeltaDiscoveryRequest(
                    type_url=response.type_url, response_nonce=response.nonce
                )
            )
            self.wanted.discard(type_url)
            if not self.wanted:
                self.event.set()

    async def close(self) -> None:
        await self.call.done_writing()
        await self.channel.close()


async def measure(
    configs: dict[str, ProxyConfig], rotate: Any = None
) -> tuple[float, float | None]:
    plane = ControlPlane()
    await plane.start("127.0.0.1:0", None)
    clients = [Client(plane.xds_port, c) for c in configs.values()]
    try:
        for c in clients:
            c.expect(c.expected)
        snapshots, problems = build_snapshots(configs, plane.cache.interner)
        assert not problems, problems[:3]
        start = time.perf_counter()
        plane.cache.publish(snapshots)
        await asyncio.gather(*(c.start() for c in clients))
        await asyncio.wait_for(asyncio.gather(*(c.event.wait() for c in clients)), 120)
        initial = time.perf_counter() - start
        rotation = None
        if rotate is not None:
            fresh = rotate()
            for c in clients:
                c.expect({TypeUrl.SECRET})
            snapshots, _ = build_snapshots(fresh, plane.cache.interner)
            start = time.perf_counter()
            result = plane.cache.publish(snapshots)
            assert len(result.changed) == len(configs)
            await asyncio.wait_for(asyncio.gather(*(c.event.wait() for c in clients)), 120)
            rotation = time.perf_counter() - start
        return initial, rotation
    finally:
        await asyncio.gather(*(c.close() for c in clients))
        await asyncio.sleep(0.5)  # let the server see the streams end before it stops
        await plane.stop(1.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--proxies", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    n = parser.parse_args().proxies
    runs = parser.parse_args().runs
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}\n"
    )
    rows = []
    for mtls in (False, True):
        analysis = analyze([SourceFile("mesh.yaml", mesh_yaml(n, mtls).encode())])
        assert analysis.ok, [d.format_text() for d in analysis.diagnostics][:3]
        resources = list(analysis.resources)
        compiled = compile_resources(resources).configs
        initial: list[float] = []
        rotations: list[float] = []
        with tempfile.TemporaryDirectory() as state:
            provider = IdentityProvider(
                IdentityOptions(state_dir=Path(state), pool_target=n, persist=False)
            )
            identities = proxy_identities(resources)
            if mtls:
                provider.ca(next(iter(identities.values())).backend)  # the CA exists already
                provider.pool.fill()  # as the background pool would have done
            start = time.perf_counter()
            configs = attach_secrets(compiled, identities, provider) if mtls else dict(compiled)
            issue = time.perf_counter() - start

            def rotate(
                provider: IdentityProvider = provider,
                compiled: dict[str, ProxyConfig] = compiled,
                identities: Any = identities,
            ) -> dict[str, ProxyConfig]:
                provider.retain([])  # forget every certificate: all are reissued
                return attach_secrets(compiled, identities, provider)

            for _ in range(runs):
                first, again = asyncio.run(measure(configs, rotate if mtls else None))
                initial.append(first)
                if again is not None:
                    rotations.append(again)
        rows.append(
            (
                "mTLS (CDS, EDS, SDS, LDS, RDS)" if mtls else "no mTLS (CDS, EDS, LDS, RDS)",
                f"{issue * 1000:.0f} ms" if mtls else "-",
                f"{statistics.median(initial) * 1000:.0f} ms",
                f"{statistics.median(rotations) * 1000:.0f} ms" if rotations else "-",
            )
        )
    print(
        f"| {n} proxies, Delta ADS, median of {runs} | issue certificates | initial push, all ACKed | rotation push (SDS only), all ACKed |"
    )
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
