"""The real server's memory: the fixed part, MB per connected proxy, growth over commits.

    .venv/bin/python bench/memory.py [--dataplanes 1000] [--policies 1820] [--proxies 1000]
                                     [--steps 2] [--commits 40]

The repository is ``bench/generate_mesh.py``'s 2,821-file mesh of issue 17 (1,000
Dataplanes, 200 services, builtin mTLS, 1,820 policies) plus the ``bench-timeout``
MeshTimeout that the commits edit, committed to a local git repository served through
``file://``. The real ``reconciler serve`` process follows it (``--proxy-auth none``); the
simulated proxies of ``bench/gitops.py`` (SotW, every type, ACK every response) connect in
``--steps`` equal groups, each its own process. Measured, from ``/proc/<pid>/status``:

* RSS after the first revision is applied, no proxy connected ("idle");
* RSS after each group of proxies has ACKed every type: (RSS with every proxy - idle RSS)
  / proxies is the MB per connected proxy (the slope between groups is printed too);
* RSS over ``--commits`` one-policy commits (webhook, applied) with every proxy connected,
  every 10 commits: flat after warm-up when every cache is bounded.

Memory does not depend on the machine's load, so these figures can be read even when the
machine is busy (the wall times printed alongside cannot). Prints markdown.

``--profile`` instead builds the first revision in this process (``bench/revision.py``'s
``Server``: the loop as ``serve`` builds it, no streams) and says where the idle server's
memory is: RSS after serve's imports and after the revision; the Python objects each part of
the server keeps (sizes of the objects reachable from it and not from a part listed
before); and, when ``memray`` is installed (not a dependency), the native allocations still
held after the revision, by allocator (Python's object arenas, protobuf's upb arenas for the
compiled Envoy messages, OpenSSL).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
sys.path.insert(0, str(ROOT))


def _gitops() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_gitops", BENCH / "gitops.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gitops = _gitops()


def start_server(
    repo: Path, work: Path, extra: tuple[str, ...] = ()
) -> tuple[object, str, str, Path]:
    state = work / "state"
    secret = work / "secret"
    secret.write_bytes(gitops.SECRET)
    xds_port, http_port = gitops.free_port(), gitops.free_port()
    log = (work / "serve.log").open("w")
    server = gitops.Proc(
        [
            str(Path(sys.executable).parent / "reconciler"),
            "serve",
            repo.as_uri(),
            "--path",
            "mesh",
            "--state-dir",
            str(state),
            "--interval",
            "1h",
            "--webhook-secret-file",
            str(secret),
            "--xds-address",
            f"127.0.0.1:{xds_port}",
            "--http-address",
            f"127.0.0.1:{http_port}",
            "--proxy-auth",
            "none",
            "--log-level",
            "warning",
            *extra,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return server, f"127.0.0.1:{xds_port}", f"http://127.0.0.1:{http_port}", state


def connect(target: str, nodes: list[str], work: Path, index: int, http: str) -> object:
    """A process of simulated proxies for ``nodes``; returns once each ACKed every type."""
    tokens = work / f"nodes-{index}.json"
    tokens.write_text(json.dumps({n: "" for n in nodes}))  # --proxy-auth none: no token
    clients = gitops.Proc(
        [sys.executable, str(BENCH / "gitops.py"), "--clients", target, str(tokens)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    clients.read()
    wanted = json.dumps(gitops.current_versions(http, set(nodes)))
    gitops.wait_until(
        lambda: clients.cmd(f"acked {wanted}")["nodes"] >= len(nodes) or None,
        900,
        "every client to ACK the first revision",
    )
    return clients


def measure(args: argparse.Namespace, work: Path) -> list[str]:
    from reconciler.journal import Journal

    repo = work / "origin"
    mesh = repo / "mesh"
    gitops.generator()(mesh, dataplanes=args.dataplanes, policies=args.policies)
    policy = mesh / "policies" / "meshtimeout" / "bench-timeout.yaml"
    policy.write_text(gitops.BENCH_POLICY.format(service=gitops.http_outbound(mesh)))
    gitops.git(repo, "init", "-q", "-b", "main")
    gitops.git(repo, "add", "-A")
    gitops.git(repo, "commit", "-q", "-m", "generated mesh")
    files = int(gitops.git(repo, "ls-files").count("\n")) + 1
    nodes = gitops.node_ids(mesh)[: args.proxies]

    server, target, http, state = start_server(repo, work)
    pid = server.p.pid  # type: ignore[attr-defined]
    groups: list[object] = []
    points: list[tuple[int, float]] = []
    series: list[float] = []
    try:
        journal = Journal(state)
        gitops.wait_until(lambda: journal.last() is not None, 900, "the first revision")
        time.sleep(2.0)
        points.append((0, gitops.server_rss(pid)))
        size = -(-len(nodes) // args.steps)
        for i in range(args.steps):
            group = nodes[i * size : (i + 1) * size]
            if not group:
                break
            groups.append(connect(target, group, work, i, http))
            time.sleep(2.0)
            points.append((points[-1][0] + len(group), gitops.server_rss(pid)))
        editor = gitops.Editor(repo)
        series.append(gitops.server_rss(pid))
        for i in range(args.commits):
            sha = editor.commit()
            assert gitops.post_webhook(http, sha, f"mem-{i}") == 202
            gitops.wait_until(
                lambda sha=sha: (e := journal.last()) is not None and e.sha == sha,
                300,
                "the commit to be applied",
            )
            if i % 10 == 9:
                time.sleep(1.0)
                series.append(gitops.server_rss(pid))
    except BaseException:
        tail = (work / "serve.log").read_text().splitlines()[-30:]
        print("serve.log (last lines):", *tail, sep="\n", file=sys.stderr)
        raise
    finally:
        for clients in groups:
            clients.stop()  # type: ignore[attr-defined]
        server.stop()  # type: ignore[attr-defined]
    n = [float(p) for p, _ in points[1:]]
    r = [v for _, v in points[1:]]
    if len(n) >= 2:
        mean_n, mean_r = sum(n) / len(n), sum(r) / len(r)
        slope = sum((a - mean_n) * (b - mean_r) for a, b in zip(n, r, strict=True)) / sum(
            (a - mean_n) ** 2 for a in n
        )
        intercept = mean_r - slope * mean_n
    else:
        slope = (points[-1][1] - points[0][1]) / max(points[-1][0], 1)
        intercept = points[0][1]
    idle = points[0][1]
    connected = points[-1][1]
    growth = (series[-1] - series[1]) / max(10 * (len(series) - 2), 1) if len(series) > 2 else 0
    return [
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the end; "
        f"{files} files, {args.dataplanes} Dataplanes, builtin mTLS, `--proxy-auth none`.",
        "",
        "| connected proxies | server RSS (MB) |",
        "|---:|---:|",
        *(f"| {count} | {rss:.1f} |" for count, rss in points),
        "",
        f"Idle (measured): **{idle:.1f} MB**; {len(nodes)} connected: **{connected:.1f} MB**; "
        f"**{(connected - idle) / max(points[-1][0], 1):.4f} MB per connected proxy** "
        f"((connected - idle) / {points[-1][0]}; the slope between the groups, which moves "
        f"more from run to run: {slope:.4f} MB, intercept {intercept:.1f} MB).",
        "",
        f"RSS over {args.commits} one-policy commits with every proxy connected, every 10: "
        + " -> ".join(f"{v:.1f}" for v in series)
        + f" MB ({growth:+.3f} MB per commit after the first 10).",
        "",
    ]


def _revision_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_revision", BENCH / "revision.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _retained(root: object, seen: set[int]) -> tuple[int, int]:
    """Bytes and count of the objects reachable from ``root`` not already in ``seen``."""
    import gc
    import types

    stack, size, count = [root], 0, 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (types.ModuleType, type)):
            continue
        seen.add(id(obj))
        size += sys.getsizeof(obj)
        count += 1
        stack.extend(gc.get_referents(obj))
    return size, count


def profile(args: argparse.Namespace, work: Path) -> list[str]:
    import asyncio
    import gc

    revision = _revision_module()
    import reconciler.cli.serve  # noqa: F401 - what `serve` imports before any revision

    gc.collect()
    rss_imports = revision.rss_mb()
    repo = work / "repo"
    revision.generator()(
        repo / "mesh", dataplanes=args.dataplanes, services=200, policies=args.policies
    )
    gitops.git(repo, "init", "-q", "-b", "main")
    gitops.git(repo, "add", "-A")
    gitops.git(repo, "commit", "-q", "-m", "mesh")
    tracker: Any = None
    try:
        import memray

        trace = work / "revision.memray"
        tracker = memray.Tracker(trace, native_traces=True)
    except ImportError:
        pass
    if tracker is not None:
        tracker.__enter__()
    server = revision.Server(repo, work / "state")

    async def first() -> None:
        outcome = await server.loop.reconcile()
        assert outcome is not None and outcome.applied

    asyncio.run(first())
    server.provider.stop()
    gc.collect()
    if tracker is not None:
        tracker.__exit__(None, None, None)
    rss_revision = revision.rss_mb()
    builder = server.loop.builder
    seen: set[int] = set()
    for module in list(sys.modules.values()):
        seen.add(id(module))
        seen.add(id(getattr(module, "__dict__", None)))
    holders = [
        ("snapshot cache: snapshots, encoded resources, response bodies", server.cache),
        ("analysis: resources, their text, per-file results", builder.analyzer),
        ("compiler and identities: last result, shared caches, secrets", builder.compile),
        ("builder: reused configs and snapshots by proxy", builder._built),
        ("console build log", builder.log),
        ("reconcile loop: state, journal", server.loop),
    ]
    out = [
        f"RSS after `serve`'s imports: {rss_imports:.1f} MB; after the first revision "
        f"({args.dataplanes} Dataplanes, {args.policies} policies, mTLS): "
        f"{rss_revision:.1f} MB.",
        "",
        "| Python objects kept by | MB | objects |",
        "|---|---:|---:|",
    ]
    total = 0
    for name, holder in holders:
        size, count = _retained(holder, seen)
        total += size
        out.append(f"| {name} | {size / 1e6:.1f} | {count} |")
    out += [f"| total | {total / 1e6:.1f} | |", ""]
    if tracker is not None:
        from memray import FileReader

        by_allocator: dict[str, int] = {}
        for record in FileReader(trace).get_leaked_allocation_records(merge_threads=True):
            frames = record.native_stack_trace()
            where = "other"
            for function, _file, _line in frames:
                if "upb_Arena" in function:
                    where = "protobuf (upb arenas: compiled Envoy messages)"
                elif "_PyObject_ArenaMmap" in function or "new_arena" in function:
                    where = "Python object arenas (small objects)"
                elif "_PyObject_Malloc" in function or "PyMem" in function:
                    where = "Python large objects (malloc)"
                elif "CRYPTO" in function or "BN_" in function:
                    where = "OpenSSL (certificates, keys)"
                else:
                    continue
                break
            by_allocator[where] = by_allocator.get(where, 0) + record.size
        out += [
            "Native allocations still held after the revision (memray), by allocator:",
            "",
            "| allocator | MB |",
            "|---|---:|",
            *(
                f"| {name} | {size / 1e6:.1f} |"
                for name, size in sorted(by_allocator.items(), key=lambda kv: -kv[1])
            ),
            "",
        ]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataplanes", type=int, default=1000)
    parser.add_argument("--policies", type=int, default=1820)
    parser.add_argument("--proxies", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--commits", type=int, default=40)
    parser.add_argument("--profile", action="store_true", help="where the idle server's memory is")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        run = profile if args.profile else measure
        print("\n".join(run(args, Path(tmp))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
