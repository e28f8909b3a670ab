"""The demo script: set up, show traffic, edit a route, show traffic follow, clean up."""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.demo.apps import App, ZipkinCollector, request
from reconciler.demo.processes import (
    Agent,
    Envoy,
    LineCollector,
    Serve,
    issue_token,
    wait_for,
)
from reconciler.errors import ReconcilerError, UsageError
from reconciler.model import DEFAULT_MESH
from reconciler.names import node_id
from reconciler.pipeline import analyze_paths

CHECKOUT_SAMPLE = Path(__file__).resolve().parents[2] / "sample-repo"
"""The sample mesh of a source checkout. A wheel does not ship it (it is the repository's
example and test fixture, not part of the program): an installed demo is given --repo."""
ROUTES = Path("policies") / "routes.yaml"
"""The file the demo edits (the backend canary's weights)."""
ZIPKIN_PORT = 9411
"""Where sample-repo's MeshTrace (policies/tracing.yaml) sends spans, on 127.0.0.1."""


@dataclass(frozen=True, slots=True)
class Dataplane:
    node_id: str
    address: str
    admin_port: int
    inbounds: tuple[tuple[str, str, int], ...]
    """(service, version, servicePort)"""
    outbounds: dict[str, tuple[str, int]]


def dataplanes(repo: Path) -> list[Dataplane]:
    analysis = analyze_paths([repo])
    found = []
    for res in analysis.resources:
        if res.kind != "Dataplane":
            continue
        net: dict[str, Any] = res.data["networking"]
        inbounds = tuple(
            (i["tags"]["kuma.io/service"], i["tags"].get("version", "-"), int(i["servicePort"]))
            for i in net.get("inbound", [])
        )
        outbounds = {
            _outbound_key(o): (o.get("address", "127.0.0.1"), int(o["port"]))
            for o in net.get("outbound", [])
        }
        found.append(
            Dataplane(
                node_id(res.mesh or DEFAULT_MESH, res.name),
                net["address"],
                int(net.get("admin", {}).get("port", 9901)),
                inbounds,
                outbounds,
            )
        )
    return sorted(found, key=lambda d: d.node_id)


def metrics_endpoint(repo: Path) -> tuple[int, str] | None:
    """(port, path) of the first Prometheus backend of a mesh-wide MeshMetric, if any."""
    for res in analyze_paths([repo]).resources:
        if res.kind != "MeshMetric" or res.spec.get("targetRef", {}).get("kind") != "Mesh":
            continue
        for backend in res.spec.get("default", {}).get("backends", []):
            if backend.get("type") == "Prometheus":
                conf = backend.get("prometheus", {})
                return int(conf.get("port", 5670)), str(conf.get("path", "/metrics"))
    return None


def _outbound_key(outbound: dict[str, Any]) -> str:
    """``backend`` for a tag outbound, ``MeshService payments`` for a backendRef one."""
    if "tags" in outbound:
        return str(outbound["tags"]["kuma.io/service"])
    ref = outbound["backendRef"]
    return f"{ref['kind']} {ref['name']}"


AUDIT_COLLECTOR = ("127.0.0.1", 5170)
"""The Tcp backend address of sample-repo's MeshAccessLog payments-audit."""


def collector(address: tuple[str, int]) -> LineCollector | None:
    """The demo's stand-in for a central log collector (skipped when the port is taken)."""
    try:
        return LineCollector(*address)
    except OSError:
        say(f"   (port {address[1]} is taken: the Tcp access-log lines have no collector)")
        return None


def say(text: str = "") -> None:
    print(text, flush=True)


def tally(host: str, port: int, count: int, headers: dict[str, str] | None = None) -> Counter[str]:
    answers: Counter[str] = Counter()
    for _ in range(count):
        status, body, _ = request(host, port, headers)
        answers[body if status == 200 else f"HTTP {status or 'error'}: {body[:60]}"] += 1
    return answers


def show(title: str, answers: Counter[str]) -> None:
    total = sum(answers.values())
    say(f"  {title}")
    for answer, count in answers.most_common():
        say(f"    {count:4d}  {100 * count / total:5.1f} %  {answer}")


def zipkin_collector() -> ZipkinCollector | None:
    try:
        return ZipkinCollector(ZIPKIN_PORT)
    except OSError as exc:
        say(f"   (no Zipkin collector: 127.0.0.1:{ZIPKIN_PORT} is taken: {exc.strerror})")
        return None


def show_trace(collector: ZipkinCollector) -> None:
    """One trace the proxies reported (MeshTrace all-http): its spans, oldest first."""

    def crossing() -> list[dict[str, Any]] | None:
        for spans in collector.traces().values():
            names = {s.get("localEndpoint", {}).get("serviceName") for s in spans}
            if {"frontend", "backend"} <= names:
                return spans
        return None

    spans = wait_for(crossing, 15, "a trace from frontend to backend at the Zipkin collector")
    say(
        f"   MeshTrace: {len(collector.spans)} spans received at 127.0.0.1:{ZIPKIN_PORT}; "
        "one trace, frontend to backend:"
    )
    for span in sorted(spans, key=lambda s: int(s.get("timestamp", 0))):
        service = span.get("localEndpoint", {}).get("serviceName", "?")
        say(
            f"     {span.get('traceId', '')[:16]}  {service:10} {span.get('kind', ''):6} "
            f"{span.get('name', '')}  {int(span.get('duration', 0)) / 1000:.1f} ms"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reconciler.demo", description=__doc__)
    parser.add_argument(
        "--hold",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="keep everything running this long at the end (max 600)",
    )
    parser.add_argument("--requests", type=int, default=100, help="requests per tally")
    parser.add_argument(
        "--repo",
        type=Path,
        default=None,
        metavar="DIR",
        help="the repository's sample-repo/ (default: the one of this source checkout; "
        "needed when reconciler is installed from a wheel)",
    )
    args = parser.parse_args(argv)
    try:
        sample = sample_repo(args.repo)
    except UsageError as exc:
        print(f"demo: error: {exc}", file=sys.stderr)
        return 2
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="reconciler-demo-"))
    running: list[Any] = []
    try:
        return _demo(sample, workdir, running, args, started)
    except KeyboardInterrupt:
        say("\ninterrupted: stopping everything")
        return 130
    except ReconcilerError as exc:
        say(f"demo failed: {exc}")
        return 1
    finally:
        for item in reversed(running):
            try:
                item.stop()
            except Exception as exc:  # keep stopping the others
                say(f"  (could not stop {item}: {exc})")
        say(f"stopped {len(running)} processes and apps; logs kept in {workdir}")


def sample_repo(given: Path | None) -> Path:
    """The sample mesh to copy: ``--repo``, else the checkout's; UsageError if it is neither."""
    repo = given if given is not None else CHECKOUT_SAMPLE
    if not (repo / ROUTES).is_file():
        where = "--repo" if given is not None else "this installation (no source checkout)"
        raise UsageError(
            f"no sample mesh at {repo} ({where}): the demo needs {ROUTES} of sample-repo/",
            hint="run `make demo` in a checkout, or pass --repo PATH/TO/sample-repo",
        )
    return repo


def _demo(
    sample: Path, workdir: Path, running: list[Any], args: argparse.Namespace, started: float
) -> int:
    repo = workdir / "repo"
    shutil.copytree(sample, repo)
    say(f"1. serving a scratch copy of sample-repo: {repo}")
    planes = dataplanes(repo)
    frontend = next((p for p in planes if p.node_id.endswith("frontend-1")), None)
    if frontend is None or "backend" not in frontend.outbounds:
        raise UsageError(
            f"{sample} is not sample-repo/: the demo sends traffic from the Dataplane "
            "frontend-1 to its `backend` outbound"
        )
    for plane in planes:  # each Envoy proves its node id (mTLS proxies receive keys)
        issue_token(plane.node_id, workdir)
    serve = Serve(repo, workdir)
    running.append(serve)
    wait_for(lambda: serve.status()["lastAppliedRevision"], 30, "the first revision")
    say(
        f"   revision {serve.status()['lastAppliedRevision'][:12]} applied for {len(planes)} proxies"
    )

    say(
        "2. one app per inbound, one real Envoy per Dataplane, each with `reconciler agent`, "
        "a Zipkin collector"
    )
    audit = collector(AUDIT_COLLECTOR)
    if audit is not None:
        running.append(audit)
    zipkin = zipkin_collector()
    if zipkin is not None:
        running.append(zipkin)
    for plane in planes:
        for service, version, port in plane.inbounds:
            running.append(App(f"{service} {version} ({plane.node_id.split('.', 1)[1]})", port))
        running.append(Agent(plane.node_id, workdir))  # before Envoy opens the pipe
        service = min((s for s, _, _ in plane.inbounds), default="")  # Kuma's node.cluster
        running.append(Envoy(plane.node_id, serve.xds_port, plane.admin_port, workdir, service))
    nodes = [p.node_id for p in planes]
    wait_for(lambda: serve.acked(nodes), 30, "every Envoy to ACK its configuration")
    say(
        f"   {len(nodes)} Envoys connected and ACKed CDS, EDS, LDS, RDS and SDS "
        f"({time.monotonic() - started:.1f} s)"
    )

    host, port = frontend.outbounds["backend"]
    say(f"3. {args.requests} requests through frontend-1's outbound for `backend` ({host}:{port}):")
    show(
        "MeshHTTPRoute backend-canary splits 90/10; MeshFaultInjection aborts 20 % on v2; "
        "MeshRetry retries 5xx:",
        tally(host, port, args.requests),
    )
    status, body, headers = request(host, port, {"x-version": "v2"})
    say(f"   with header x-version: v2 -> {status} {body!r} (x-route: {headers.get('x-route')})")
    if "payments" in frontend.outbounds:
        show(
            "payments (two replicas, MeshTimeout 2 s, MeshRateLimit):",
            tally(*frontend.outbounds["payments"], count=20),
        )
    if "MeshService payments" in frontend.outbounds:
        show(
            "payments again, through the outbound naming its MeshService port "
            "(cluster default_payments___msvc_8080):",
            tally(*frontend.outbounds["MeshService payments"], count=10),
        )
    if audit is not None and "payments" in frontend.outbounds:
        found = wait_for(lambda: list(audit.lines), 10, "audit lines over TCP")
        say(
            f"   MeshAccessLog payments-audit: {len(found)} line(s) reached the TCP collector at "
            f"{AUDIT_COLLECTOR[0]}:{AUDIT_COLLECTOR[1]} through `reconciler agent`, e.g."
        )
        say(f"     {found[-1]}")
    fe_envoy = next(e for e in running if isinstance(e, Envoy) and e.node_id == frontend.node_id)
    retries = sum(fe_envoy.stats("upstream_rq_retry$").values())
    say(f"   frontend Envoy retried {retries} upstream requests (faults hidden by MeshRetry)")
    metrics = metrics_endpoint(repo)
    if metrics is not None:
        status, body, _ = request(frontend.address, metrics[0], path=metrics[1])
        scraped = next(
            (
                line
                for line in body.splitlines()
                if line.startswith("envoy_cluster_upstream_rq_total{") and not line.endswith(" 0")
            ),
            "none",
        )
        say(
            f"   MeshMetric: GET http://{frontend.address}:{metrics[0]}{metrics[1]} -> {status}, "
            f"{len(body.splitlines())} lines from frontend-1's Envoy, e.g. {scraped}"
        )
    if zipkin is not None:
        show_trace(zipkin)

    say("4. editing policies/routes.yaml in the scratch copy: canary 90/10 -> 50/50, then SIGHUP")
    routes = repo / ROUTES
    text = re.sub(r"weight: 90\b", "weight: 50", routes.read_text())
    routes.write_text(re.sub(r"weight: 10\b", "weight: 50", text))
    served = serve.status()
    before = served["lastAppliedRevision"]
    versions = {p["id"]: p["versions"] for p in served["proxies"]}
    serve.reload()
    wait_for(lambda: serve.status()["lastAppliedRevision"] != before, 20, "the edit to apply")
    wait_for(lambda: serve.acked(nodes), 20, "the new routes to be ACKed")
    served = serve.status()
    moved = sorted(
        f"{p['id'].split('.', 1)[1]} {kind}"
        for p in served["proxies"]
        for kind, v in p["versions"].items()
        if versions.get(p["id"], {}).get(kind, {}).get("acked") != v["acked"]
    )
    say(
        f"   revision {served['lastAppliedRevision'][:12]} applied; pushed and ACKed: "
        f"{', '.join(moved) or 'nothing'} (everything else kept its version)"
    )
    show("after the edit:", tally(host, port, args.requests))

    say("5. where to look while it runs:")
    say(f"   status   {serve.url}/status   (or: reconciler status --server {serve.url})")
    say(f"   metrics  {serve.url}/metrics")
    say(f"   config   {serve.url}/config/{frontend.node_id}")
    for plane in planes:
        say(f"   envoy    {plane.node_id:24} admin http://127.0.0.1:{plane.admin_port}/")
    say(f"   logs     {workdir}")
    hold = min(max(args.hold, 0.0), 600.0)
    if hold:
        say(f"   holding for {hold:.0f} s (^C stops)")
        time.sleep(hold)
    say(f"done in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
