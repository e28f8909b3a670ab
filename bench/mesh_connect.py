"""The real server while 1,000 proxies connect: wall time to every type ACKed, server CPU, RSS.

    .venv/bin/python bench/mesh_connect.py [--dataplanes 1000] [--policies 1820]
                                           [--proxies 1000] [--repeat 3]

The repository and the server are those of ``bench/memory.py`` (the 2,821-file mTLS mesh of
issue 17, the real ``reconciler serve --proxy-auth none``); the simulated proxies are those
of ``bench/gitops.py`` (SotW, every type, ACK every response), all in one client process.
Each round starts the client process, waits until every proxy has ACKed the served version
of every type, and reads the server's CPU time (``/proc/<pid>/stat``, user + system) over
the same span; then the clients leave and the next round connects them again. The wall
time includes the client process's start (its imports, about a second) and depends on the
machine's load (the clients share the cores); the server CPU is the figure to compare.
Prints markdown.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
sys.path.insert(0, str(ROOT))


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


memory = _load("memory")
gitops = memory.gitops


def server_cpu(pid: int) -> float:
    """User + system CPU seconds of process ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def connected(http: str) -> int:
    """Proxies with an open stream, from ``/status``."""
    with urllib.request.urlopen(f"{http}/status", timeout=30) as response:
        status = json.load(response)
    return sum(1 for p in status["proxies"] if p["connected"])


def measure(args: argparse.Namespace, work: Path) -> list[str]:
    from reconciler.journal import Journal

    repo = work / "origin"
    mesh = repo / "mesh"
    gitops.generator()(mesh, dataplanes=args.dataplanes, policies=args.policies)
    gitops.git(repo, "init", "-q", "-b", "main")
    gitops.git(repo, "add", "-A")
    gitops.git(repo, "commit", "-q", "-m", "generated mesh")
    files = int(gitops.git(repo, "ls-files").count("\n")) + 1
    nodes = gitops.node_ids(mesh)[: args.proxies]
    server, target, http, state = memory.start_server(repo, work)
    pid = server.p.pid  # type: ignore[attr-defined]
    rounds: list[tuple[float, float, float]] = []
    try:
        journal = Journal(state)
        gitops.wait_until(lambda: journal.last() is not None, 900, "the first revision")
        time.sleep(2.0)
        idle = gitops.server_rss(pid)
        for i in range(args.repeat):
            cpu = server_cpu(pid)
            started = time.monotonic()
            clients = memory.connect(target, nodes, work, i, http)
            rounds.append(
                (time.monotonic() - started, server_cpu(pid) - cpu, gitops.server_rss(pid))
            )
            clients.stop()  # type: ignore[attr-defined]
            gitops.wait_until(
                lambda: connected(http) == 0 or None, 120, "the proxies to disconnect"
            )
            time.sleep(1.0)
    finally:
        server.stop()  # type: ignore[attr-defined]
    return [
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the end; "
        f"{files} files, {args.dataplanes} Dataplanes, builtin mTLS, `--proxy-auth none`; "
        f"{len(nodes)} SotW proxies; server RSS idle {idle:.1f} MB.",
        "",
        "| round | connect → every type ACKed (s) | server CPU (s) | server RSS connected (MB) |",
        "|---:|---:|---:|---:|",
        *(
            f"| {i + 1} | {wall:.2f} | {cpu:.2f} | {rss:.1f} |"
            for i, (wall, cpu, rss) in enumerate(rounds)
        ),
        "",
        f"Median: **{statistics.median(r[0] for r in rounds):.2f} s** wall, "
        f"**{statistics.median(r[1] for r in rounds):.2f} s** server CPU "
        f"({statistics.median(r[1] for r in rounds) / max(len(nodes), 1) * 1000:.2f} ms per "
        "proxy).",
        "",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataplanes", type=int, default=1000)
    parser.add_argument("--policies", type=int, default=1820)
    parser.add_argument("--proxies", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-mesh-connect-") as tmp:
        print("\n".join(measure(args, Path(tmp))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
