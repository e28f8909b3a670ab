"""xDS server figures: fan-out to 1,000 simulated ADS clients plus real Envoys, RSS, max streams.

    .venv/bin/python bench/xds.py [--proxies 1000] [--envoys 3] [--pushes 5] [--max-streams 5000]

Three processes: the server (the real ``ControlPlane``), the simulated clients (one gRPC
channel per client, each subscribes to CDS/EDS/LDS/RDS and ACKs every response) and the
driver (this script), plus a few real Envoys. Each proxy gets one of 20 groups of 50 EDS
clusters with their endpoints and a listener whose route config has one vhost per cluster.
A push changes every cluster and every endpoint of every proxy (CDS + EDS), then the server
records when each proxy has ACKed the new versions of all its types.

Variants: ``shared`` (the server as shipped: resources serialized once, bodies shared, nonce
appended) and ``reser`` (the same server with per-stream serialization patched in: every
response is rebuilt with ``Any.Pack`` and ``SerializeToString``), so the ratio shows what
sharing bytes buys. Prints markdown tables.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# This script's directory must not shadow the `xds` and `validate` packages of xds-protos.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT))

GROUPS = 20
SIZE = 50


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# --- server process -----------------------------------------------------------------------


def _configs(nodes: list[str], envoys: int, generation: int) -> dict[str, Any]:
    from proxy_configs import many_clusters

    from reconciler.resource_types import ProxyConfig

    groups = [many_clusters("", g, SIZE, generation=generation) for g in range(GROUPS)]
    configs: dict[str, Any] = {}
    for i, node in enumerate(nodes):
        configs[node] = ProxyConfig(node, groups[i % GROUPS].resources)
    for k in range(envoys):
        node = f"bench.envoy-{k}"
        configs[node] = many_clusters(
            node, k % GROUPS, SIZE, generation=generation, listen=(f"127.0.2.{k + 1}", 20000 + k)
        )
    return configs


def _install_reserialize(plane: Any) -> None:
    """Per-stream serialization: rebuild every response from the proto messages."""
    from envoy.service.discovery.v3 import discovery_pb2 as envoy_discovery
    from google.protobuf import any_pb2

    import reconciler.serve.delta as delta_module
    from reconciler.snapshot import wire

    by_digest: dict[str, Any] = {}
    by_entry: dict[int, tuple[Any, Any]] = {}
    interner = plane.cache.interner
    original = interner.encode

    def encode(type_url: Any, message: Any, memo: Any = None) -> Any:
        res = original(type_url, message)
        by_digest[res.digest] = message
        by_entry[id(res.delta_field)] = (res, message)
        return res

    interner.encode = encode

    def packed(type_url: str, message: Any) -> Any:
        return any_pb2.Any(type_url=type_url, value=message.SerializeToString())

    def sotw_body(type_url: Any, snap: Any, names: Any) -> bytes:
        selected = sorted(snap.resources if names is None else names & snap.resources.keys())
        response = envoy_discovery.DiscoveryResponse(
            version_info=snap.version, type_url=str(type_url)
        )
        for name in selected:
            response.resources.append(packed(str(type_url), by_digest[snap.resources[name].digest]))
        return bytes(response.SerializeToString())

    class Reserialize:
        nonce_suffix = staticmethod(wire.nonce_suffix)

        @staticmethod
        def delta_body(version: str, type_url: str, entries: Any, removed: Any = ()) -> bytes:
            response = envoy_discovery.DeltaDiscoveryResponse(
                system_version_info=version, type_url=type_url, removed_resources=list(removed)
            )
            for entry in entries:
                res, message = by_entry[id(entry)]
                response.resources.add(
                    name=res.name, version=res.digest, resource=packed(type_url, message)
                )
            return bytes(response.SerializeToString())

    plane.cache.responses.sotw_body = sotw_body
    delta_module.wire = Reserialize  # type: ignore[assignment]


async def server_main(args: argparse.Namespace) -> None:
    from reconciler.serve.server import ControlPlane
    from reconciler.snapshot import build_snapshots

    raise_nofile()
    extra = os.environ.get("XDS_BENCH_GRPC_OPTIONS")
    if extra:  # experiments: more gRPC server options, a JSON list of [name, value]
        from reconciler.serve import ads

        ads._SERVER_OPTIONS = (*ads._SERVER_OPTIONS, *(tuple(o) for o in json.loads(extra)))
    traced = bool(os.environ.get("XDS_BENCH_TRACEMALLOC"))
    if traced:
        import tracemalloc

        tracemalloc.start(4)
    plane = ControlPlane()
    if args.mode == "reser":
        _install_reserialize(plane)
    await plane.start(f"127.0.0.1:{args.port}", None)
    nodes = [f"bench.p{i}" for i in range(args.proxies)]
    generation = 0

    def publish() -> float:
        """Build and publish the next snapshots; returns the build time (not part of a push)."""
        started = time.perf_counter()
        snapshots, problems = build_snapshots(
            _configs(nodes, args.envoys, generation), plane.cache.interner
        )
        assert not problems, problems[:3]
        built = time.perf_counter() - started
        plane.cache.publish(snapshots)
        return built

    publish()

    def done(node: str) -> bool:
        snap = plane.cache.get(node)
        state = plane.registry.find(node)
        if snap is None or state is None:
            return False
        for type_url, typed in snap.types.items():
            if typed.resources:
                versions = state.versions.get(type_url)
                if versions is None or versions.acked != typed.version:
                    return False
        return True

    tracking: dict[str, Any] = {"pending": set(), "times": {}, "started": 0.0}
    all_done = asyncio.Event()

    def on_ack(state: Any, _type_url: Any) -> None:
        if state.node_id in tracking["pending"] and done(state.node_id):
            tracking["times"][state.node_id] = time.monotonic() - tracking["started"]
            tracking["pending"].discard(state.node_id)
            if not tracking["pending"]:
                all_done.set()

    plane.registry.on_ack = on_ack

    async def track(started: float, limit: float) -> dict[str, float]:
        """When each proxy has ACKed all its current versions (event-driven, no polling)."""
        all_done.clear()
        tracking.update(started=started, times={})
        tracking["pending"] = {n for n in plane.cache.node_ids() if not done(n)}
        if tracking["pending"]:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(all_done.wait(), limit)
        times: dict[str, float] = tracking["times"]
        tracking["pending"] = set()
        for node in plane.cache.node_ids():
            if node not in times and done(node):
                times[node] = 0.0  # already ACKed when tracking began
        return times

    reply = lambda payload: print(json.dumps(payload), flush=True)  # noqa: E731
    idle_trace = tracemalloc.take_snapshot() if traced else None
    gc_time = [0.0, 0.0, 0.0]
    gc_started = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            gc_time[info["generation"]] += time.perf_counter() - gc_started[0]

    import gc

    gc.callbacks.append(on_gc)
    connect_profiler = None
    if os.environ.get("XDS_BENCH_PROFILE") == "connect":
        import cProfile

        connect_profiler = cProfile.Profile()
        connect_profiler.enable()
    reply({"ready": True, "rss_mb": rss_mb()})
    ready_cpu = time.process_time()
    loop = asyncio.get_running_loop()
    while True:
        line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if not line or line == "quit":
            break
        if line == "wait":
            started = time.monotonic()
            times = await track(started, args.timeout)
            if connect_profiler is not None:
                import pstats

                connect_profiler.disable()
                pstats.Stats(connect_profiler, stream=sys.stderr).sort_stats("tottime").print_stats(
                    30
                )
            if idle_trace is not None:
                _print_trace(idle_trace, len(plane.registry.connected()))
            # server CPU from ready to every stream ACKed: the connects' cost
            reply(
                {
                    "acked": len(times),
                    "all_s": max(times.values(), default=0.0),
                    "cpu_s": time.process_time() - ready_cpu,
                    "gc_s": list(gc_time),
                }
            )
        elif line == "push":
            generation += 1
            started = time.monotonic()
            build_s = publish()
            # a push's clocks start when the new snapshot is published (after the build)
            started += build_s
            cpu = time.process_time()
            gc_time[:] = [0.0, 0.0, 0.0]
            profiler = None
            if os.environ.get("XDS_BENCH_PROFILE") == "push":
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            times = await track(started, args.timeout)
            if profiler is not None:
                import pstats

                profiler.disable()
                pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)
                for metric in plane.metrics.render().decode().splitlines():
                    if metric.startswith(
                        ("reconciler_xds_pushes_total", "reconciler_xds_acks_total")
                    ):
                        print(metric, file=sys.stderr)
            reply(
                {
                    "build_s": build_s,
                    "times": times,
                    "cpu_s": time.process_time() - cpu,
                    "gc_s": list(gc_time),
                    "rss_mb": rss_mb(),
                }
            )
        elif line == "rss":
            reply({"rss_mb": rss_mb(), "streams": len(plane.registry.connected())})
        elif line == "trim":
            from reconciler.serve.heap import release_free_memory

            release_free_memory()
            reply({"rss_mb": rss_mb(), "streams": len(plane.registry.connected())})
    await plane.stop(0)


def _print_trace(before: Any, streams: int) -> None:
    """Python allocations held by the connected streams, per source line, to stderr."""
    import gc
    import tracemalloc

    gc.collect()
    diff = tracemalloc.take_snapshot().compare_to(before, "lineno")
    total = sum(d.size_diff for d in diff)
    print(
        f"python heap held by {streams} streams: {total / max(streams, 1):.0f} B/stream",
        file=sys.stderr,
    )
    for d in diff[:25]:
        frame = d.traceback[0]
        print(
            f"{d.size_diff / max(streams, 1):8.0f} B/stream {d.count_diff / max(streams, 1):6.2f} "
            f"obj/stream  {frame.filename}:{frame.lineno}",
            file=sys.stderr,
        )


# --- simulated clients process ----------------------------------------------------------


async def one_client(target: str, index: int, delta: bool, first_response: asyncio.Event) -> None:
    import grpc
    from envoy.service.discovery.v3 import ads_pb2_grpc
    from envoy.service.discovery.v3 import discovery_pb2 as d

    from reconciler.resource_types import TypeUrl

    group = index % GROUPS
    eds = [f"g{group}-c{i}" for i in range(SIZE)]
    rds = [f"outbound:group-{group}"]
    channel = grpc.aio.insecure_channel(
        target,
        options=(
            ("grpc.use_local_subchannel_pool", 1),
            ("grpc.max_receive_message_length", 1 << 26),
        ),
    )
    stub = ads_pb2_grpc.AggregatedDiscoveryServiceStub(channel)
    names = {str(TypeUrl.ENDPOINT): eds, str(TypeUrl.ROUTE): rds}
    try:
        if delta:
            call = stub.DeltaAggregatedResources()
            first = d.DeltaDiscoveryRequest(type_url=str(TypeUrl.CLUSTER))
            first.node.id = f"bench.p{index}"
            await call.write(first)
            for t in (TypeUrl.ENDPOINT, TypeUrl.LISTENER, TypeUrl.ROUTE):
                await call.write(
                    d.DeltaDiscoveryRequest(
                        type_url=str(t), resource_names_subscribe=names.get(str(t), [])
                    )
                )
            async for response in call:
                first_response.set()
                await call.write(
                    d.DeltaDiscoveryRequest(
                        type_url=response.type_url, response_nonce=response.nonce
                    )
                )
        else:
            call = stub.StreamAggregatedResources()
            first = d.DiscoveryRequest(type_url=str(TypeUrl.CLUSTER))
            first.node.id = f"bench.p{index}"
            await call.write(first)
            for t in (TypeUrl.ENDPOINT, TypeUrl.LISTENER, TypeUrl.ROUTE):
                await call.write(
                    d.DiscoveryRequest(type_url=str(t), resource_names=names.get(str(t), []))
                )
            async for response in call:
                first_response.set()
                await call.write(
                    d.DiscoveryRequest(
                        type_url=response.type_url,
                        version_info=response.version_info,
                        response_nonce=response.nonce,
                        resource_names=names.get(response.type_url, []),
                    )
                )
    except (grpc.RpcError, asyncio.CancelledError):
        pass
    finally:
        await channel.close()


async def clients_main(args: argparse.Namespace) -> None:
    raise_nofile()
    target = f"127.0.0.1:{args.port}"
    tasks = []
    batch: list[asyncio.Event] = []
    for i in range(args.n):
        event = asyncio.Event()
        batch.append(event)
        tasks.append(asyncio.create_task(one_client(target, args.first + i, args.delta, event)))
        if len(batch) == 100:
            # ramp: let a batch connect before the next (a burst of thousands of SYNs
            # overflows the accept backlog and the clients back off for up to two minutes)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*(e.wait() for e in batch)), 20)
            batch = []
    print(json.dumps({"started": args.n}), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


# --- driver ---------------------------------------------------------------------------------


class Proc:
    def __init__(self, argv: list[str]) -> None:
        self.p = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
        )

    def read(self) -> dict[str, Any]:
        assert self.p.stdout is not None
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.p.args} exited with {self.p.wait()}")
        return json.loads(line)  # type: ignore[no-any-return]

    def cmd(self, text: str) -> dict[str, Any]:
        assert self.p.stdin is not None
        self.p.stdin.write(text + "\n")
        self.p.stdin.flush()
        return self.read()

    def stop(self) -> None:
        if self.p.poll() is None:
            try:
                assert self.p.stdin is not None
                self.p.stdin.write("quit\n")
                self.p.stdin.flush()
                self.p.wait(15)
            except (OSError, subprocess.TimeoutExpired):
                self.p.kill()
                self.p.wait(5)


def start_envoys(
    count: int, port: int, delta: bool, workdir: Path
) -> list[subprocess.Popen[bytes]]:
    from reconciler.cli.bootstrap import BootstrapOptions, render

    envoy = Path(sys.executable).parent / "envoy"
    procs = []
    for k in range(count):
        config = workdir / f"envoy-{k}.yaml"
        config.write_text(
            render(BootstrapOptions(f"bench.envoy-{k}", f"127.0.0.1:{port}", 0, not delta))
        )
        procs.append(
            subprocess.Popen(
                [
                    str(envoy),
                    "-c",
                    str(config),
                    "--disable-hot-restart",
                    "--concurrency",
                    "1",
                    "-l",
                    "error",
                    "--base-id",
                    str(1000 + k),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    return procs


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def fanout(mode: str, delta: bool, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    port = free_port()
    me = [sys.executable, str(Path(__file__).resolve())]
    server = Proc(
        [
            *me,
            "server",
            "--mode",
            mode,
            "--port",
            str(port),
            "--proxies",
            str(args.proxies),
            "--envoys",
            str(args.envoys),
        ]
    )
    clients: Proc | None = None
    envoys: list[subprocess.Popen[bytes]] = []
    try:
        idle = server.read()["rss_mb"]
        started = time.monotonic()
        clients = Proc(
            [*me, "clients", "--port", str(port), "--n", str(args.proxies)]
            + (["--delta"] if delta else [])
        )
        clients.read()
        envoys = start_envoys(args.envoys, port, delta, workdir)
        connected = server.cmd("wait")
        connect_s = time.monotonic() - started
        with_streams = server.cmd("rss")
        sim: list[float] = []
        real: list[float] = []
        alls: list[float] = []
        cpu: list[float] = []
        builds: list[float] = []
        rss_after = 0.0
        for _ in range(args.pushes):
            result = server.cmd("push")
            times = result["times"]
            sim.extend(v for k, v in times.items() if not k.startswith("bench.envoy-"))
            real.extend(v for k, v in times.items() if k.startswith("bench.envoy-"))
            alls.append(
                max(times.values()) if len(times) == args.proxies + args.envoys else float("inf")
            )
            cpu.append(result["cpu_s"])
            builds.append(result["build_s"])
            rss_after = result["rss_mb"]
        return {
            "mode": mode,
            "protocol": "delta" if delta else "sotw",
            "acked": connected["acked"],
            "connect_s": connect_s,
            "connect_cpu_s": connected["cpu_s"],
            "sim_p50": percentile(sim, 0.5),
            "sim_p99": percentile(sim, 0.99),
            "all_s": max(alls),
            "envoy_p50": percentile(real, 0.5),
            "envoy_max": max(real, default=float("nan")),
            "cpu_s": statistics.median(cpu),
            "build_s": statistics.median(builds),
            "rss": (idle, with_streams["rss_mb"], rss_after),
            "streams": with_streams["streams"],
        }
    finally:
        for proc in envoys:
            proc.terminate()
        for proc in envoys:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
        if clients is not None:
            clients.stop()
        server.stop()


def max_streams(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    me = [sys.executable, str(Path(__file__).resolve())]
    server = Proc(
        [
            *me,
            "server",
            "--mode",
            "shared",
            "--port",
            str(port),
            "--proxies",
            str(args.max_streams),
            "--envoys",
            "0",
            "--timeout",
            "180",
        ]
    )
    parts: list[Proc] = []
    try:
        idle = server.read()["rss_mb"]
        started = time.monotonic()
        half = args.max_streams // 2
        for first, n in ((0, half), (half, args.max_streams - half)):
            part = Proc(
                [
                    *me,
                    "clients",
                    "--port",
                    str(port),
                    "--n",
                    str(n),
                    "--first",
                    str(first),
                    "--delta",
                ]
            )
            part.read()
            parts.append(part)
        connected = server.cmd("wait")
        connect_s = time.monotonic() - started
        rss = server.cmd("rss")
        push = server.cmd("push")
        times = list(push["times"].values())
        return {
            "streams": rss["streams"],
            "acked": connected["acked"],
            "connect_s": connect_s,
            "rss": (idle, rss["rss_mb"]),
            "push_p50": percentile(times, 0.5),
            "push_p99": percentile(times, 0.99),
            "push_all": max(times, default=float("nan")),
            "push_acked": len(times),
        }
    finally:
        for part in parts:
            part.stop()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="role")
    s = sub.add_parser("server")
    s.add_argument("--mode", choices=("shared", "reser"), default="shared")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--proxies", type=int, default=1000)
    s.add_argument("--envoys", type=int, default=3)
    s.add_argument("--timeout", type=float, default=60.0)
    c = sub.add_parser("clients")
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--n", type=int, default=1000)
    c.add_argument("--first", type=int, default=0)
    c.add_argument("--delta", action="store_true")
    parser.add_argument("--proxies", type=int, default=1000)
    parser.add_argument("--envoys", type=int, default=3)
    parser.add_argument("--pushes", type=int, default=5)
    parser.add_argument("--max-streams", type=int, default=5000)
    parser.add_argument("--protocols", default="delta,sotw")
    parser.add_argument("--modes", default="shared,reser")
    parser.add_argument("--only-max-streams", action="store_true", help="skip the fan-out runs")
    args = parser.parse_args()
    if args.role == "server":
        asyncio.run(server_main(args))
        return
    if args.role == "clients":
        asyncio.run(clients_main(args))
        return
    raise_nofile()
    import tempfile

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for protocol in [] if args.only_max_streams else args.protocols.split(","):
            for mode in args.modes.split(","):
                rows.append(fanout(mode, protocol == "delta", args, Path(tmp)))
                print(f"<!-- {rows[-1]} -->", file=sys.stderr, flush=True)
        alone = []
        if args.envoys and not args.only_max_streams:
            # the real Envoys' own ACK time: the same config, no simulated clients around them
            solo = argparse.Namespace(**{**vars(args), "proxies": 0})
            for protocol in args.protocols.split(","):
                alone.append(fanout("shared", protocol == "delta", solo, Path(tmp)))
                print(f"<!-- {alone[-1]} -->", file=sys.stderr, flush=True)
    if rows:
        total = args.proxies + args.envoys
        print(
            f"Fan-out: {args.proxies} simulated ADS clients + {args.envoys} real Envoys, "
            f"{GROUPS} groups of {SIZE} EDS clusters, a push changes every cluster and endpoint "
            f"(median of {args.pushes} pushes; host: {os.cpu_count()} CPUs)\n"
        )
        print(
            "| variant | protocol | proxies ACKed at start | connect → all ACKed (s) | server CPU, connect (s) | push → ACKed p50 (s) | p99 (s) | all, worst push (s) | real Envoy p50 / max (s) | server CPU per push (s) | snapshot build (s) | server RSS idle → streams → after (MB) | KB per proxy connected | MB per proxy after pushes |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            idle, streams, after = r["rss"]
            print(
                f"| {r['mode']} | {r['protocol']} | {r['acked']}/{total} | {r['connect_s']:.2f} | "
                f"{r['connect_cpu_s']:.2f} | "
                f"{r['sim_p50']:.3f} | {r['sim_p99']:.3f} | {r['all_s']:.3f} | "
                f"{r['envoy_p50']:.3f} / {r['envoy_max']:.3f} | {r['cpu_s']:.2f} | {r['build_s']:.2f} | "
                f"{idle:.0f} → {streams:.0f} → {after:.0f} | {(streams - idle) / total * 1024:.1f} | {(after - idle) / total:.3f} |"
            )
    if alone:
        print(f"\nThe same {args.envoys} real Envoys alone (no simulated clients): push → ACKed\n")
        print("| protocol | Envoy p50 (s) | Envoy max (s) | server CPU per push (s) |")
        print("|---|---|---|---|")
        for r in alone:
            print(
                f"| {r['protocol']} | {r['envoy_p50']:.3f} | {r['envoy_max']:.3f} | "
                f"{r['cpu_s']:.3f} |"
            )
    if args.max_streams:
        m = max_streams(args)
        print(
            f"\nMaximum streams: {args.max_streams} simulated Delta clients (two client processes) "
            "on one server process\n"
        )
        print(
            "| streams held | ACKed at start | connect → all ACKed (s) | server RSS idle → streams (MB) | MB per stream | one push: ACKed | p50 / p99 / all (s) |"
        )
        print("|---|---|---|---|---|---|---|")
        idle, rss = m["rss"]
        print(
            f"| {m['streams']} | {m['acked']} | {m['connect_s']:.1f} | {idle:.0f} → {rss:.0f} | "
            f"{(rss - idle) / max(1, m['streams']):.3f} | {m['push_acked']} | "
            f"{m['push_p50']:.2f} / {m['push_p99']:.2f} / {m['push_all']:.2f} |"
        )


if __name__ == "__main__":
    main()
