"""GitOps loop figures: poll cost, one-file commit versus cold start, webhook to all ACKed.

    .venv/bin/python bench/gitops.py [--dataplanes 1000] [--policies 3999] [--repeat 5]
                                     [--skip-webhook]

The repository is ``bench/generate_mesh.py``'s (5,000 files by default) committed to a
local git repository and served through ``file://`` (so network latency is not measured).

* **poll, nothing changed**: ``GitSource.fetch()`` when the branch did not move (one
  ``git ls-remote``, nothing else), and ``git ls-remote`` alone, in ms.
* **one-file commit**: one MeshTimeout's ``requestTimeout`` edited and committed; the loop's
  stages on a warm server (``fetch`` = ls-remote + shallow fetch + ls-tree + cat-file of the
  changed blob; ``analyze`` with per-file results cached by blob id; incremental ``compile``;
  ``snapshot`` = build and serialize) side by side with a cold start on the same commit
  (empty state dir: shallow clone, read every blob, parse and validate every file, full
  compile, snapshot).
* **webhook to all ACKed**: the real ``reconciler serve`` (a process) follows the repository;
  ``--proxies`` simulated ADS clients (another process, SotW, wildcard subscriptions to
  every type, ACK every response) are connected; for each one-policy commit the driver
  POSTs a signed GitHub push event and measures until every proxy the commit changed has
  ACKed its new versions (read from ``/status`` once the commit is applied: versions are
  content hashes and name no commit).

Prints markdown tables.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import importlib.util
import json
import os
import platform
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

# bench/ holds validate.py and xds.py, which would shadow xds-protos' top-level packages.
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
SECRET = b"bench webhook secret"


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


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


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
          requestTimeout: 100ms
"""
"""The policy the commits edit: it changes the proxies with an outbound to one HTTP service."""


def http_outbound(mesh: Path) -> str:
    """An HTTP service that some Dataplane calls (generate_mesh: svc-N is HTTP if N % 5 < 3)."""
    import yaml

    for path in sorted((mesh / "dataplanes").rglob("*.yaml")):
        for outbound in yaml.safe_load(path.read_text())["networking"].get("outbound", []):
            service = outbound["tags"]["kuma.io/service"]
            if int(service.rsplit("-", 1)[1]) % 5 < 3:
                return str(service)
    raise SystemExit("no Dataplane calls an HTTP service")


class Editor:
    """Edits ``bench-timeout``'s requestTimeout; each commit gets a new value."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self.path = repo / "mesh" / "policies" / "meshtimeout" / "bench-timeout.yaml"

    def commit(self) -> str:
        text = self.path.read_text()
        value = int(re.search(r"requestTimeout: (\d+)ms", text).group(1))  # type: ignore[union-attr]
        self.path.write_text(text.replace(f"{value}ms", f"{value + 1}ms"))
        git(self.repo, "commit", "-q", "-am", f"bench-timeout {value + 1}ms")
        return git(self.repo, "rev-parse", "HEAD")


# --- in-process stages ------------------------------------------------------------------


class Stages:
    """The loop's stages with the state a running server keeps between commits."""

    def __init__(self, repo: Path, state: Path) -> None:
        from reconciler.compile.compiler import Compiler
        from reconciler.serve.analysis_cache import RevisionAnalyzer
        from reconciler.snapshot.snapshot import Interner
        from reconciler.source.git import GitSource

        self.source = GitSource(str(repo), state_dir=state, subpath="mesh")
        self.analyzer = RevisionAnalyzer(None)
        self.compiler = Compiler()
        self.interner = Interner()
        self.built: dict[str, tuple[Any, Any]] = {}

    def run(self) -> dict[str, float]:
        from reconciler.snapshot import build_snapshots

        times: dict[str, float] = {}
        t = time.perf_counter()
        revision = self.source.fetch()
        times["fetch"] = time.perf_counter() - t
        t = time.perf_counter()
        analysis = self.analyzer(revision.files, revision.diagnostics)
        times["analyze"] = time.perf_counter() - t
        assert analysis.ok, [d.format_text() for d in analysis.diagnostics[:3]]
        t = time.perf_counter()
        result = self.compiler.compile(analysis.resources)
        times["compile"] = time.perf_counter() - t
        t = time.perf_counter()
        # as the server does: only proxies whose compiled config is a new object
        fresh = {n: c for n, c in result.configs.items() if self.built.get(n, (None,))[0] is not c}
        snapshots, problems = build_snapshots(fresh, self.interner)
        times["snapshot"] = time.perf_counter() - t
        assert not problems
        self.built.update({n: (result.configs[n], s) for n, s in snapshots.items()})
        times["proxies serialized (count)"] = len(fresh) / 1000  # shown as a count, not ms
        times["total"] = sum(v for k, v in times.items() if k != "proxies serialized (count)")
        return times


def poll_and_commit(repo: Path, work: Path, repeat: int) -> list[str]:
    from reconciler.source.git_command import GitRunner

    out: list[str] = []
    warm = Stages(repo, work / "state-warm")
    first = warm.run()
    polls = []
    for _ in range(max(20, repeat * 4)):
        t = time.perf_counter()
        warm.source.fetch()
        polls.append(time.perf_counter() - t)
    runner = GitRunner(allow_file=True)
    lsr = []
    for _ in range(max(20, repeat * 4)):
        t = time.perf_counter()
        runner.run(["ls-remote", "--end-of-options", repo.as_uri(), "refs/heads/main"])
        lsr.append(time.perf_counter() - t)
    out += [
        "### Poll when nothing changed",
        "",
        "| operation | p50 ms | p95 ms | runs |",
        "|---|---:|---:|---:|",
        f"| `GitSource.fetch()` (branch did not move) | {ms(statistics.median(polls))} "
        f"| {ms(percentile(polls, 0.95))} | {len(polls)} |",
        f"| `git ls-remote` alone | {ms(statistics.median(lsr))} | {ms(percentile(lsr, 0.95))} "
        f"| {len(lsr)} |",
        "",
    ]
    editor = Editor(repo)
    warm_runs = []
    for _ in range(repeat):
        editor.commit()
        warm_runs.append(warm.run())
    cold_runs = []
    for i in range(max(1, repeat // 2)):
        cold_runs.append(Stages(repo, work / f"state-cold-{i}").run())
    rows = ["fetch", "analyze", "compile", "snapshot", "total", "proxies serialized (count)"]
    out += [
        "### One-file commit versus cold start on the same commit",
        "",
        "The commit edits one MeshTimeout (`requestTimeout` towards one HTTP service).",
        "",
        f"Median of {repeat} one-file commits on a warm server and of {len(cold_runs)} cold "
        "starts; the first start of the warm server is shown too.",
        "",
        "| stage | one-file commit, warm (ms) | cold start (ms) | first start (ms) |",
        "|---|---:|---:|---:|",
    ]
    for stage in rows:
        w = statistics.median(r[stage] for r in warm_runs)
        c = statistics.median(r[stage] for r in cold_runs)
        out.append(f"| {stage} | {ms(w)} | {ms(c)} | {ms(first[stage])} |")
    out.append("")
    return out


# --- webhook to all ACKed -------------------------------------------------------------------


def node_ids(mesh: Path) -> list[str]:
    import yaml

    return sorted(
        f"default.{yaml.safe_load(p.read_text())['name']}"
        for p in (mesh / "dataplanes").rglob("*.yaml")
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def one_client(
    target: str, node: str, token: str, acks: dict[str, list[tuple[str, float]]]
) -> None:
    import grpc
    from envoy.service.discovery.v3 import ads_pb2_grpc
    from envoy.service.discovery.v3 import discovery_pb2 as d

    from reconciler.resource_types import PUSH_ORDER, TypeUrl

    wildcard = {str(TypeUrl.CLUSTER), str(TypeUrl.LISTENER)}
    channel = grpc.aio.insecure_channel(
        target,
        options=(
            ("grpc.use_local_subchannel_pool", 1),
            ("grpc.max_receive_message_length", 1 << 26),
        ),
    )
    stub = ads_pb2_grpc.AggregatedDiscoveryServiceStub(channel)
    seen = acks.setdefault(node, [])
    try:
        call = stub.StreamAggregatedResources(metadata=(("authorization", token),))
        for i, t in enumerate(PUSH_ORDER):
            req = d.DiscoveryRequest(
                type_url=str(t), resource_names=[] if str(t) in wildcard else ["*"]
            )
            if i == 0:
                req.node.id = node
            await call.write(req)
        async for response in call:
            await call.write(
                d.DiscoveryRequest(
                    type_url=response.type_url,
                    version_info=response.version_info,
                    response_nonce=response.nonce,
                    resource_names=[] if response.type_url in wildcard else ["*"],
                )
            )
            seen.append((response.version_info, time.time()))
    except (grpc.RpcError, asyncio.CancelledError):
        pass
    finally:
        await channel.close()


async def clients_main(target: str, tokens_file: str) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    acks: dict[str, list[tuple[str, float]]] = {}
    tokens: dict[str, str] = json.loads(Path(tokens_file).read_text())
    nodes = sorted(tokens)
    tasks = []
    for i, node in enumerate(nodes):
        tasks.append(asyncio.create_task(one_client(target, node, tokens[node], acks)))
        if i % 100 == 99:
            await asyncio.sleep(0.05)
    loop = asyncio.get_running_loop()
    print(json.dumps({"started": len(nodes)}), flush=True)
    while True:
        line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if not line or line == "quit":
            break
        # "acked {node: [versions]}": the nodes that received all their listed versions, and
        # when the last of them arrived
        wanted: dict[str, list[str]] = json.loads(line.split(" ", 1)[1])
        done = {}
        for node, versions in wanted.items():
            seen = acks.get(node, [])
            last = {v: t for v, t in seen}
            if all(v in last for v in versions):
                done[node] = max(last[v] for v in versions)
        print(json.dumps({"nodes": len(done), "times": done}), flush=True)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


class Proc:
    def __init__(self, argv: list[str], **kwargs: Any) -> None:
        self.p = subprocess.Popen(argv, text=True, cwd=ROOT, **kwargs)

    def cmd(self, text: str) -> dict[str, Any]:
        assert self.p.stdin is not None and self.p.stdout is not None
        self.p.stdin.write(text + "\n")
        self.p.stdin.flush()
        return self.read()

    def read(self) -> dict[str, Any]:
        assert self.p.stdout is not None
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.p.args[:3]} exited with {self.p.wait()}")
        return json.loads(line)  # type: ignore[no-any-return]

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(20)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(5)


def wait_until(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def current_versions(http: str, nodes: set[str]) -> dict[str, list[str]]:
    """What the server serves each of ``nodes`` now, every type (from ``/status``)."""
    with urllib.request.urlopen(f"{http}/status", timeout=30) as response:
        status = json.load(response)
    return {
        p["id"]: sorted(served["version"] for served in p["served"].values())
        for p in status["proxies"]
        if p["id"] in nodes
    }


def post_webhook(http: str, sha: str, delivery: str) -> int:
    body = json.dumps({"ref": "refs/heads/main", "after": sha}).encode()
    request = urllib.request.Request(
        f"{http}/hooks/github",
        data=body,
        method="POST",
        headers={
            "X-GitHub-Event": "push",
            "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest(),
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def one_commit(
    sha: str, delivery: str, http: str, journal: Any, clients: Proc, nodes: list[str]
) -> dict[str, float]:
    """POST the push event for ``sha``; time until applied and until every changed proxy ACKed."""
    started = time.time()
    status = post_webhook(http, sha, delivery)
    assert status == 202, status
    entry = wait_until(
        lambda: e if (e := journal.last()) is not None and e.sha == sha else None,
        120,
        "the commit to be applied",
    )
    affected = set(entry.proxies) & set(nodes)
    assert affected, "the edited policy changed no proxy"
    wanted = json.dumps(current_versions(http, affected))

    def all_acked() -> dict[str, float] | None:
        times: dict[str, float] = clients.cmd(f"acked {wanted}")["times"]
        return times if affected <= set(times) else None

    times = wait_until(all_acked, 120, "every changed proxy to ACK")
    time.sleep(1.0)  # let late responses (a second type) land, then re-read
    times = all_acked() or times
    done = max(times[n] for n in affected)
    return {"applied": entry.time - started, "acked": done - started, "affected": len(affected)}


def webhook_to_acked(repo: Path, work: Path, proxies: int, repeat: int) -> list[str]:
    from datetime import UTC, datetime, timedelta

    from reconciler.identity.tokens import load_or_create_signer
    from reconciler.journal import Journal

    state = work / "state-serve"
    # proxies of an mTLS mesh must present a token (`reconciler token issue`)
    nodes = node_ids(repo / "mesh")[:proxies]
    signer = load_or_create_signer(state)
    now = datetime.now(UTC)
    tokens = {n: signer.issue(n, ttl=timedelta(hours=4), now=now)[0] for n in nodes}
    (work / "tokens.json").write_text(json.dumps(tokens))
    secret_file = work / "secret"
    secret_file.write_bytes(SECRET)
    xds_port, http_port = free_port(), free_port()
    http = f"http://127.0.0.1:{http_port}"
    log = (work / "serve.log").open("w")
    server = Proc(
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
            str(secret_file),
            "--xds-address",
            f"127.0.0.1:{xds_port}",
            "--http-address",
            f"127.0.0.1:{http_port}",
            "--log-level",
            "warning",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    clients: Proc | None = None
    rows: list[dict[str, float]] = []
    readme_rows: list[dict[str, float]] = []
    rss: dict[str, float] = {}
    connect_seconds = 0.0
    try:
        journal = Journal(state)
        wait_until(lambda: journal.last() is not None, 600, "the first revision")
        time.sleep(2.0)  # the journal line is written after the publish: let it settle
        rss["idle"] = server_rss(server.p.pid)
        connect_started = time.time()
        clients = Proc(
            [
                sys.executable,
                __file__,
                "--clients",
                f"127.0.0.1:{xds_port}",
                str(work / "tokens.json"),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        clients.read()
        wanted = json.dumps(current_versions(http, set(nodes)))
        wait_until(
            lambda: clients.cmd(f"acked {wanted}")["nodes"] >= len(nodes) or None,
            600,
            "every client to ACK the first revision",
        )
        connect_seconds = time.time() - connect_started
        rss["connected"] = server_rss(server.p.pid)
        editor = Editor(repo)
        for i in range(repeat):
            rows.append(one_commit(editor.commit(), f"bench-{i}", http, journal, clients, nodes))
        for i in range(repeat):
            readme_rows.append(readme_commit(repo, f"readme-{i}", http, journal))
        rss["after commits"] = server_rss(server.p.pid)
    except BaseException:
        log.flush()
        tail = (work / "serve.log").read_text().splitlines()[-30:]
        print("serve.log (last lines):", *tail, sep="\n", file=sys.stderr)
        raise
    finally:
        if clients is not None:
            clients.stop()
        server.stop()
        log.close()
    acked = [r["acked"] for r in rows]
    return [
        f"### Webhook received to every changed proxy ACKed ({len(nodes)} simulated proxies)",
        "",
        "| commit | proxies changed | webhook to applied (ms) | webhook to all ACKed (ms) |",
        "|---:|---:|---:|---:|",
        *(
            f"| {i + 1} | {int(r['affected'])} | {ms(r['applied'])} | {ms(r['acked'])} |"
            for i, r in enumerate(rows)
        ),
        "",
        f"p50 webhook to all ACKed: **{ms(statistics.median(acked))} ms** "
        f"(max {ms(max(acked))} ms, {len(rows)} commits).",
        "",
        "README-only commits (no resource file changed), webhook to applied: "
        + ", ".join(f"{ms(r['applied'])} ms" for r in readme_rows)
        + "; proxies changed: "
        + ", ".join(str(int(r["affected"])) for r in readme_rows)
        + ".",
        "",
        f"{len(nodes)} proxies connect, all types ACKed: {connect_seconds:.1f} s. Server RSS: "
        + ", ".join(f"{k} {v:.0f} MB" for k, v in rss.items())
        + (
            f"; {(rss['connected'] - rss['idle']) / len(nodes):.3f} MB per connected proxy."
            if "connected" in rss and "idle" in rss
            else "."
        ),
        "",
    ]


def server_rss(pid: int) -> float:
    """Resident set size of process ``pid`` in MB (``/proc/<pid>/status`` VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def readme_commit(repo: Path, delivery: str, http: str, journal: Any) -> dict[str, float]:
    """Commit a README change, POST its push event; time until the journal records it."""
    readme = repo / "README.md"
    readme.write_text(f"# mesh\n\n{delivery}\n")
    git(repo, "add", "README.md")
    git(repo, "commit", "-q", "-m", f"docs {delivery}")
    sha = git(repo, "rev-parse", "HEAD")
    started = time.time()
    assert post_webhook(http, sha, delivery) == 202
    entry = wait_until(
        lambda: e if (e := journal.last()) is not None and e.sha == sha else None,
        120,
        "the README commit to be applied",
    )
    return {"applied": entry.time - started, "affected": len(entry.proxies)}


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--clients":
        asyncio.run(clients_main(sys.argv[2], sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataplanes", type=int, default=1000)
    parser.add_argument("--policies", type=int, default=3999)
    parser.add_argument("--proxies", type=int, default=1000, help="simulated ADS clients")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-webhook", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-gitops-") as tmp:
        work = Path(tmp)
        repo = work / "origin"
        generator()(repo / "mesh", dataplanes=args.dataplanes, policies=args.policies)
        policy = repo / "mesh" / "policies" / "meshtimeout" / "bench-timeout.yaml"
        policy.write_text(BENCH_POLICY.format(service=http_outbound(repo / "mesh")))
        git(repo, "init", "-q", "-b", "main")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "generated mesh")
        files = int(git(repo, "ls-files").count("\n")) + 1
        print(f"## GitOps loop ({files} files, {args.dataplanes} Dataplanes)\n")
        print(
            f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, {git(repo, 'version')}.\n"
        )
        for line in poll_and_commit(repo, work, args.repeat):
            print(line)
        if not args.skip_webhook:
            for line in webhook_to_acked(repo, work, args.proxies, args.repeat):
                print(line)


if __name__ == "__main__":
    main()
