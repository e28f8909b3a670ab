"""The serve loop's cost per revision, by stage, and its memory: what a change costs.

    .venv/bin/python bench/revision.py [--dataplanes 1000] [--policies 1820] [--commits 40]
                                       [--profile-memory]

The repository is ``bench/generate_mesh.py``'s (1,000 Dataplanes, 200 services, builtin
mTLS; 1,820 policies: the issue's 2,821-file mesh) plus a README, committed to a local git
repository served through ``file://``. The real :class:`~reconciler.serve.loop.Reconciler`
runs in this process as ``reconciler serve`` builds it (``GitSource``, the kept compiler,
``with_secrets`` with a real identity provider issuing the 1,000 certificates, the snapshot
cache, the journal) but without xDS streams: this is the work of a revision before any
push. Measured per revision, in this one process (CPU = ``time.process_time``):

* **cold start**: the first revision (clone, parse and validate everything, compile every
  proxy, issue every certificate, serialize every snapshot) -- the reference;
* **README-only commit**: a commit that changes no resource file;
* **one-policy commit**: one MeshTimeout edited (a few proxies change);
* each of them fetched after a poll (``ls-remote`` first) and after a webhook that names the
  commit (``Reconciler.trigger(after)``: no ``ls-remote``).

Stages: fetch (git), analyze, compile (with the SDS secrets), snapshots, publish, journal
(``record_applied``: the journal entry, the versions served, the keep-refs; after the
publish).
"built" counts snapshots serialized, "pushed" proxies whose content changed (their streams
would be woken). Memory: RSS (``/proc/self/statm``) after the cold start and over
``--commits`` one-policy commits; ``--profile-memory`` adds a tracemalloc breakdown of what
the idle server holds, by package.

Prints markdown tables.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
sys.path.insert(0, str(ROOT))

GIT_ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "HOME": "/nonexistent",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.test",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.test",
    "LC_ALL": "C",
}

BENCH_POLICY = """\
type: MeshTimeout
name: bench-timeout
mesh: default
spec:
  targetRef:
    kind: Mesh
  to:
    - targetRef:
        kind: MeshService
        name: {service}
      default:
        http:
          requestTimeout: {value}ms
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, env=GIT_ENV, check=True, capture_output=True, text=True
    ).stdout.strip()


def generator() -> Any:
    spec = importlib.util.spec_from_file_location("generate_mesh", BENCH / "generate_mesh.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate


def http_outbound(mesh: Path) -> str:
    """An HTTP service that some Dataplane calls (generate_mesh: svc-N is HTTP if N % 5 < 3)."""
    import yaml

    for path in sorted((mesh / "dataplanes").rglob("*.yaml")):
        for outbound in yaml.safe_load(path.read_text())["networking"].get("outbound", []):
            service = outbound["tags"]["kuma.io/service"]
            if int(service.rsplit("-", 1)[1]) % 5 < 3:
                return str(service)
    raise SystemExit("no Dataplane calls an HTTP service")


def rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


class Clock:
    """Wall and CPU time per stage of one revision."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.wall[name] = self.wall.get(name, 0.0) + time.perf_counter() - wall
            self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - cpu

    def reset(self) -> None:
        self.wall.clear()
        self.cpu.clear()

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.stage(name):
                return fn(*args, **kwargs)

        return timed


class Server:
    """The reconcile loop as ``reconciler serve`` builds it, with its stages timed."""

    def __init__(self, repo: Path, state: Path) -> None:
        from reconciler.cli.serve import pipeline_compile
        from reconciler.identity.provider import IdentityOptions, IdentityProvider
        from reconciler.identity.serving import with_secrets
        from reconciler.journal import Journal
        from reconciler.serve import build as serve_build
        from reconciler.serve.loop import Reconciler
        from reconciler.serve.metrics import Metrics
        from reconciler.snapshot import SnapshotCache
        from reconciler.source.git import GitSource

        self.clock = Clock()
        self.built = 0
        original = serve_build.build_snapshots

        def counting(configs: Any, interner: Any) -> Any:
            self.built += len(configs)
            return original(configs, interner)

        serve_build.build_snapshots = counting  # type: ignore[assignment]
        source = GitSource(repo.as_uri(), state_dir=state, subpath="mesh")
        source.fetch = self.clock.wrap("fetch", source.fetch)  # type: ignore[method-assign]
        self.provider = IdentityProvider(IdentityOptions(state_dir=state, pool_target=1100))
        self.provider.start()
        compile_fn = with_secrets(self.clock.wrap("compile", pipeline_compile()), self.provider)
        self.cache = SnapshotCache()
        self.loop = Reconciler(
            source,
            self.clock.wrap("compile+secrets", compile_fn),
            self.cache,
            Metrics(),
            journal=Journal(state),
            interval=None,
        )
        from reconciler.serve import loop as serve_loop

        serve_loop.record_applied = self.clock.wrap("journal", serve_loop.record_applied)  # type: ignore[attr-defined]
        builder = self.loop.builder
        if hasattr(builder, "collector"):  # as `serve` sets it (absent in older versions)
            from reconciler.serve.heap import Collector

            builder.collector = Collector()
        builder.analyzer = self.clock.wrap("analyze", builder.analyzer)  # type: ignore[assignment]
        builder.snapshots = self.clock.wrap("snapshots", builder.snapshots)  # type: ignore[method-assign]
        self.cache.publish = self.clock.wrap("publish", self.cache.publish)  # type: ignore[method-assign]

    async def revision(self, expected: str | None = None) -> dict[str, float]:
        """One reconcile (a poll, or a webhook naming ``expected``); its figures."""
        clock = self.clock
        clock.reset()
        self.built = 0
        if expected is not None:
            self.loop._expected = expected  # what trigger(after) leaves for the next reconcile
        wall, cpu = time.perf_counter(), time.process_time()
        outcome = await self.loop.reconcile()
        total_wall, total_cpu = time.perf_counter() - wall, time.process_time() - cpu
        assert outcome is not None and outcome.applied, outcome
        out = {f"{k} wall": v for k, v in clock.wall.items()}
        out.update({f"{k} cpu": v for k, v in clock.cpu.items()})
        out["total wall"], out["total cpu"] = total_wall, total_cpu
        out["built"], out["pushed"] = float(self.built), float(outcome.changed)
        return out


async def measure(args: argparse.Namespace, work: Path) -> list[str]:
    repo = work / "repo"
    mesh = repo / "mesh"
    generator()(mesh, dataplanes=args.dataplanes, services=args.services, policies=args.policies)
    policy = mesh / "policies" / "bench-timeout.yaml"
    service = http_outbound(mesh)
    policy.write_text(BENCH_POLICY.format(value=100, service=service))
    readme = repo / "README.md"
    readme.write_text("# mesh\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "mesh")
    files = len(list(mesh.rglob("*.yaml")))

    server = Server(repo, work / "state")
    clocked = server
    rss_start = rss_mb()
    cold = await clocked.revision()
    gc.collect()
    rss_cold = rss_mb()

    counter = {"readme": 0, "policy": 100}

    def commit(kind: str) -> str:
        if kind == "readme":
            counter["readme"] += 1
            readme.write_text(f"# mesh\n\nedit {counter['readme']}\n")
        else:
            counter["policy"] += 1
            policy.write_text(BENCH_POLICY.format(value=counter["policy"], service=service))
        git(repo, "commit", "-q", "-am", f"{kind} {counter[kind]}")
        return git(repo, "rev-parse", "HEAD")

    runs: dict[str, list[dict[str, float]]] = {}
    for _ in range(args.repeat):
        for kind in ("readme", "policy"):
            commit(kind)
            runs.setdefault(f"{kind} poll", []).append(await clocked.revision())
            sha = commit(kind)
            runs.setdefault(f"{kind} webhook", []).append(await clocked.revision(sha))

    rss_series = [rss_mb()]
    for i in range(args.commits):
        await clocked.revision(commit("policy"))
        if i % 10 == 9:
            gc.collect()
            rss_series.append(rss_mb())
    server.provider.stop()

    columns = [
        ("cold start", [cold]),
        ("README-only, poll", runs["readme poll"]),
        ("README-only, webhook", runs["readme webhook"]),
        ("one policy, poll", runs["policy poll"]),
        ("one policy, webhook", runs["policy webhook"]),
    ]
    stages = [
        "fetch",
        "analyze",
        "compile",
        "compile+secrets",
        "snapshots",
        "publish",
        "journal",
        "total",
    ]
    out = [
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the end; "
        f"{files} resource files, {args.dataplanes} Dataplanes, median of {args.repeat} "
        "commits per column.",
        "",
        "CPU ms per stage (wall ms in parentheses); `compile+secrets` includes `compile`:",
        "",
        "| stage | " + " | ".join(name for name, _ in columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for stage in stages:
        cells = []
        for _, series in columns:
            cpu = statistics.median(r.get(f"{stage} cpu", 0.0) for r in series)
            wall = statistics.median(r.get(f"{stage} wall", 0.0) for r in series)
            cells.append(f"{cpu * 1000:.1f} ({wall * 1000:.1f})")
        out.append(f"| {stage} | " + " | ".join(cells) + " |")
    for count in ("built", "pushed"):
        cells = [f"{statistics.median(r[count] for r in series):.0f}" for _, series in columns]
        out.append(f"| snapshots {count} | " + " | ".join(cells) + " |")
    cold_cpu = cold["total cpu"]
    ratios = [
        f"{cold_cpu / max(statistics.median(r['total cpu'] for r in series), 1e-6):.0f}x"
        for _, series in columns
    ]
    out.append("| cold / this (total CPU) | " + " | ".join(ratios) + " |")
    out += [
        "",
        f"RSS: {rss_start:.0f} MB before the first revision, {rss_cold:.0f} MB after the cold "
        f"start (no proxy connected); over {args.commits} one-policy commits after the ones "
        "above, every 10: " + " -> ".join(f"{v:.1f}" for v in rss_series) + " MB.",
        "",
    ]
    return out


def profile_memory(args: argparse.Namespace, work: Path) -> list[str]:
    """What an idle server holds after the cold start, by top-level package (tracemalloc)."""
    tracemalloc.start(1)
    before = rss_mb()
    asyncio.run(_cold_only(args, work))
    gc.collect()
    snapshot = tracemalloc.take_snapshot()
    after = rss_mb()
    tracemalloc.stop()
    by_place: dict[str, int] = {}
    for stat in snapshot.statistics("filename"):
        name = stat.traceback[0].filename
        by_place[_package(name)] = by_place.get(_package(name), 0) + stat.size
    total = sum(by_place.values())
    out = [
        f"Python heap held after the cold start (tracemalloc, by the file that allocated): "
        f"{total / 1e6:.1f} MB traced; RSS {before:.0f} -> {after:.0f} MB (RSS includes "
        "tracemalloc's own bookkeeping).",
        "",
        "| allocated in | MB | share |",
        "|---|---:|---:|",
    ]
    for place, size in sorted(by_place.items(), key=lambda kv: -kv[1])[:15]:
        out.append(f"| `{place}` | {size / 1e6:.1f} | {size / total:.0%} |")
    out.append("")
    return out


_HELD: list[Any] = []


async def _cold_only(args: argparse.Namespace, work: Path) -> None:
    repo = work / "repo-mem"
    mesh = repo / "mesh"
    generator()(mesh, dataplanes=args.dataplanes, services=args.services, policies=args.policies)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "mesh")
    server = Server(repo, work / "state-mem")
    outcome = await server.loop.reconcile()
    assert outcome is not None and outcome.applied
    server.provider.stop()
    _HELD.append(server)  # held while the snapshot is taken, as a running server holds it


def _package(filename: str) -> str:
    parts = Path(filename).parts
    if "reconciler" in parts:
        i = len(parts) - 1 - parts[::-1].index("reconciler")
        return "/".join(parts[i : i + 3])
    if "site-packages" in parts:
        i = parts.index("site-packages")
        return parts[i + 1] if i + 1 < len(parts) else filename
    return Path(filename).name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataplanes", type=int, default=1000)
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--policies", type=int, default=1820)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--commits", type=int, default=40)
    parser.add_argument("--profile-memory", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-revision-") as tmp:
        if args.profile_memory:
            print("\n".join(profile_memory(args, Path(tmp))))
            return 0
        print("\n".join(asyncio.run(measure(args, Path(tmp)))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
