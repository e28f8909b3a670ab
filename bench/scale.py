"""Past 1,000 proxies: 5,000 simulated proxies on one server, then the same fleet on two replicas.

    .venv/bin/python bench/scale.py [--dataplanes 5000] [--services 1000] [--policies 1820]
                                    [--group 1000] [--commits 3] [--skip-replicas]

The repository is ``bench/generate_mesh.py``'s mesh (builtin mTLS) with ``--dataplanes``
Dataplanes plus two policies the commits edit: ``bench-timeout`` (a MeshTimeout towards one
HTTP service: a one-policy change that reaches the proxies calling it) and ``bench-trace``
(a MeshTrace on the whole mesh: every commit to it changes every proxy's listeners). It is
committed to a local git repository served through ``file://``; the real ``reconciler
serve`` process follows it (``--proxy-auth none``); the simulated proxies of
``bench/gitops.py`` (SotW, every type, ACK every response) connect in groups of ``--group``,
each group its own process. Measured, for the server process (``/proc/<pid>``: RSS, and CPU
as user + system time, so the figures hold on a busy machine better than wall times):

* the first revision (cold start on the repository), RSS idle;
* each group's connect: wall time until every proxy of the group ACKed every type, the
  server's CPU for it, RSS after;
* steady state: the server's CPU over 10 s with every proxy connected and nothing changing;
* one-policy commits and mesh-wide commits (signed webhook): webhook to applied, to every
  changed proxy ACKed, the server's CPU per commit;
* then (unless ``--skip-replicas``) a second server on the same repository (its own state
  directory): every proxy's served versions compared between the two (replicas derive the
  same versions from the same commit), the fleet reconnected half to each, and mesh-wide
  commits announced to both: what a second replica buys.

The simulated proxies run on the same machine and compete with the server for the CPUs;
with 2 cores the wall times say what this machine does, the server CPU what the server costs.
Prints markdown.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import statistics
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


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gitops = _load("gitops")
memory = _load("memory")

TRACE_POLICY = """\
type: MeshTrace
name: bench-trace
mesh: default
spec:
  targetRef:
    kind: Mesh
  default:
    backends:
      - type: Zipkin
        zipkin:
          url: http://127.0.0.1:9411/api/v2/spans
    sampling:
      overall: 1
"""
"""The mesh-wide policy: its sampling is edited, which changes every proxy."""


class Edit:
    """Each commit increments the first number ``pattern`` captures in ``path``."""

    def __init__(self, repo: Path, path: Path, pattern: str) -> None:
        self.repo, self.path, self.pattern = repo, path, re.compile(pattern)

    def commit(self) -> str:
        text = self.path.read_text()
        match = self.pattern.search(text)
        assert match is not None, self.pattern.pattern
        value = int(match.group(1))
        start, end = match.span(1)
        self.path.write_text(text[:start] + str(value % 100 + 1) + text[end:])
        gitops.git(self.repo, "commit", "-q", "-am", f"{self.path.stem} {value % 100 + 1}")
        return str(gitops.git(self.repo, "rev-parse", "HEAD"))


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """One ``reconciler serve`` process and what it takes to measure it."""

    def __init__(self, repo: Path, work: Path, extra: tuple[str, ...]) -> None:
        from reconciler.journal import Journal

        work.mkdir(parents=True, exist_ok=True)
        self.work = work
        started = time.time()
        self.proc, self.target, self.http, state = memory.start_server(repo, work, extra)
        self.pid: int = self.proc.p.pid
        self.journal = Journal(state)
        gitops.wait_until(lambda: self.journal.last() is not None, 1800, "the first revision")
        self.first_revision = time.time() - started
        time.sleep(2.0)

    def rss(self) -> float:
        return float(gitops.server_rss(self.pid))

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def stop(self) -> None:
        self.proc.stop()


def connect(server: Server, nodes: list[str], work: Path, tag: str) -> tuple[Any, float, float]:
    """Connect ``nodes`` to ``server``; the clients, the wall time and the server's CPU."""
    cpu, t = server.cpu(), time.time()
    clients = memory.connect(server.target, nodes, work, tag, server.http)
    return clients, time.time() - t, server.cpu() - cpu


def commit_on(
    servers: list[tuple[Server, Any, list[str]]], sha: str, delivery: str
) -> dict[str, float]:
    """Announce ``sha`` to every server; until each server's changed proxies all ACKed."""
    cpu = [s.cpu() for s, _, _ in servers]
    started = time.time()
    for server, _, _ in servers:
        assert gitops.post_webhook(server.http, sha, delivery) == 202
    applied, acked, affected = 0.0, 0.0, 0
    for server, clients, nodes in servers:
        entry = gitops.wait_until(
            lambda server=server: (
                e if (e := server.journal.last()) is not None and e.sha == sha else None
            ),
            600,
            "the commit to be applied",
        )
        applied = max(applied, entry.time - started)
        changed = set(entry.proxies) & set(nodes)
        affected += len(changed)
        wanted = json.dumps(gitops.current_versions(server.http, changed))

        def all_acked(
            clients: Any = clients, changed: set[str] = changed, wanted: str = wanted
        ) -> Any:
            times: dict[str, float] = clients.cmd(f"acked {wanted}")["times"]
            return times if changed <= set(times) else None

        times = gitops.wait_until(all_acked, 600, "every changed proxy to ACK")
        if changed:
            acked = max(acked, max(times[n] for n in changed) - started)
    time.sleep(1.0)
    return {
        "applied": applied,
        "acked": acked,
        "affected": affected,
        "cpu": sum(s.cpu() - c for (s, _, _), c in zip(servers, cpu, strict=True)),
    }


def median_row(label: str, rows: list[dict[str, float]]) -> str:
    def med(key: str) -> float:
        return statistics.median(r[key] for r in rows)

    return (
        f"| {label} | {int(med('affected'))} | {med('applied'):.2f} | {med('acked'):.2f} "
        f"| {med('cpu'):.2f} | {len(rows)} |"
    )


def measure(args: argparse.Namespace, work: Path) -> list[str]:
    repo = work / "origin"
    mesh = repo / "mesh"
    gitops.generator()(
        mesh, dataplanes=args.dataplanes, services=args.services, policies=args.policies
    )
    timeout = mesh / "policies" / "meshtimeout" / "bench-timeout.yaml"
    timeout.write_text(gitops.BENCH_POLICY.format(service=gitops.http_outbound(mesh)))
    trace = mesh / "policies" / "meshtrace" / "bench-trace.yaml"
    trace.parent.mkdir(parents=True, exist_ok=True)
    trace.write_text(TRACE_POLICY)
    gitops.git(repo, "init", "-q", "-b", "main")
    gitops.git(repo, "add", "-A")
    gitops.git(repo, "commit", "-q", "-m", "generated mesh")
    files = gitops.git(repo, "ls-files").count("\n") + 1
    nodes = gitops.node_ids(mesh)
    one = Edit(repo, timeout, r"requestTimeout: (\d+)ms")
    wide = Edit(repo, trace, r"overall: (\d+)")

    out = [
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; {files} files, {len(nodes)} Dataplanes, "
        f"{args.services} services, builtin mTLS, `--proxy-auth none`; groups of "
        f"{args.group} simulated proxies, each group one process.",
        "",
    ]
    identity = shared_ca(work)
    one_server = Server(repo, work / "one", identity)
    groups: list[Any] = []
    try:
        out += [
            f"One server: first revision (cold start) applied after "
            f"{one_server.first_revision:.1f} s; RSS idle {one_server.rss():.1f} MB.",
            "",
            "| connected proxies | group connect, all ACKed (s) | server CPU for it (s) "
            "| server RSS (MB) |",
            "|---:|---:|---:|---:|",
        ]
        for start in range(0, len(nodes), args.group):
            group = nodes[start : start + args.group]
            clients, wall, cpu = connect(one_server, group, work, f"one-{start}")
            groups.append(clients)
            time.sleep(2.0)
            out.append(
                f"| {start + len(group)} | {wall:.1f} | {cpu:.2f} | {one_server.rss():.1f} |"
            )
        cpu = one_server.cpu()
        time.sleep(10.0)
        idle_cpu = one_server.cpu() - cpu
        out += [
            "",
            f"Steady state, {len(nodes)} proxies connected, nothing changing: server CPU "
            f"{idle_cpu:.2f} s over 10 s; RSS {one_server.rss():.1f} MB.",
            "",
        ]
        # commits are announced to one server here; its clients are the union of the groups
        fleet = Fleet(groups)
        setup = [(one_server, fleet, nodes)]
        one_rows = [commit_on(setup, one.commit(), f"one-{i}") for i in range(args.commits)]
        wide_rows = [commit_on(setup, wide.commit(), f"wide-{i}") for i in range(args.commits)]
        out += [
            "| commit (median) | proxies changed | webhook to applied (s) "
            "| webhook to all ACKed (s) | server CPU (s) | commits |",
            "|---|---:|---:|---:|---:|---:|",
            median_row("one policy, one server", one_rows),
            median_row("mesh-wide, one server", wide_rows),
        ]
        out.append(f"| RSS after the commits | | | | {one_server.rss():.1f} MB | |")
        if args.skip_replicas:
            return out
        fleet.stop()
        groups.clear()
        other = Server(repo, work / "two", identity)
        same = compare_versions(one_server, other, nodes)
        half = len(nodes) // 2
        pairs = []
        for server, part, tag in ((one_server, nodes[:half], "a"), (other, nodes[half:], "b")):
            parts = []
            for start in range(0, len(part), args.group):
                clients, _, _ = connect(server, part[start : start + args.group], work, tag)
                parts.append(clients)
                groups.append(clients)
            pairs.append((server, Fleet(parts), part))
        two_rows = [commit_on(pairs, wide.commit(), f"two-{i}") for i in range(args.commits)]
        one_two = [commit_on(pairs, one.commit(), f"two-one-{i}") for i in range(args.commits)]
        out += [
            median_row("one policy, two replicas (half the fleet each)", one_two),
            median_row("mesh-wide, two replicas (half the fleet each)", two_rows),
            "",
            f"Second replica: first revision after {other.first_revision:.1f} s; every "
            f"proxy's served versions (every type but SDS) equal on both replicas: {same} of {len(nodes)}; "
            f"RSS with half the fleet each: {one_server.rss():.1f} MB and "
            f"{other.rss():.1f} MB.",
            "",
        ]
        other.stop()
        return out
    finally:
        for clients in groups:
            clients.stop()
        one_server.stop()


class Fleet:
    """Several client processes answered as one (``acked`` merged over the groups)."""

    def __init__(self, groups: list[Any]) -> None:
        self.groups = groups

    def cmd(self, text: str) -> dict[str, Any]:
        times: dict[str, float] = {}
        for group in self.groups:
            times.update(group.cmd(text)["times"])
        return {"nodes": len(times), "times": times}

    def stop(self) -> None:
        for group in self.groups:
            group.stop()


def shared_ca(work: Path) -> tuple[str, ...]:
    """``--mesh-ca`` for the mesh: replicas given the same CA issue certificates all trust."""
    from datetime import UTC, datetime, timedelta

    from reconciler.identity.ca import create_ca, key_pem

    ca = create_ca("default", rsa_bits=2048, expiration=timedelta(days=30), now=datetime.now(UTC))
    cert, key = work / "ca.crt", work / "ca.key"
    cert.write_bytes(ca.cert_pem)
    key.write_bytes(key_pem(ca.key))
    key.chmod(0o600)
    return ("--mesh-ca", f"default={cert},{key}")


def served(server: Server) -> dict[str, dict[str, str]]:
    """Each proxy's served version per type, SDS excluded (each replica issues its own leaf)."""
    import urllib.request

    with urllib.request.urlopen(f"{server.http}/status", timeout=60) as response:
        status = json.load(response)
    return {
        p["id"]: {t: s["version"] for t, s in p["served"].items() if t != "SDS"}
        for p in status["proxies"]
    }


def compare_versions(a: Server, b: Server, nodes: list[str]) -> int:
    """How many of ``nodes`` ``a`` and ``b`` serve the same versions of every type but SDS."""
    left, right = served(a), served(b)
    return sum(1 for n in nodes if n in left and left[n] == right.get(n))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataplanes", type=int, default=5000)
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--policies", type=int, default=1820)
    parser.add_argument("--group", type=int, default=1000)
    parser.add_argument("--commits", type=int, default=3)
    parser.add_argument("--skip-replicas", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        print("\n".join(measure(args, Path(tmp))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
