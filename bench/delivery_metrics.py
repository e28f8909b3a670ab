"""The per-proxy delivery series' cost: one ACK, one ``/metrics`` scrape, one disconnect.

    .venv/bin/python bench/delivery_metrics.py [--proxies 1000] [--rounds 5]

``--proxies`` proxies with 4 xDS types each (CDS, EDS, LDS, RDS) get their series; then every
proxy ACKs LDS ``--rounds`` times; then ``/metrics`` is rendered cold (every proxy changed
since the last scrape), warm (none changed) and after 10 % of the proxies ACKed; then every
proxy disconnects. The same is measured with ``prometheus_client`` children (a Histogram and
a Counter labelled mesh/proxy/type, ``labels()`` looked up once per proxy and type, removed
with ``remove()``), which is what the server would do without its own formatter.

Prints a markdown table (medians of 3 repetitions; CPU time of this one process).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest  # noqa: E402

from reconciler.resource_types import TypeUrl  # noqa: E402
from reconciler.serve.metrics import Metrics  # noqa: E402
from reconciler.serve.proxy_metrics import ACK_BUCKETS  # noqa: E402

TYPES = (TypeUrl.CLUSTER, TypeUrl.ENDPOINT, TypeUrl.LISTENER, TypeUrl.ROUTE)


def clock(work: Callable[[], Any]) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def ours(proxies: int, rounds: int) -> dict[str, float]:
    metrics = Metrics()
    series = [metrics.proxy_series(f"default.web-{i}") for i in range(proxies)]
    for one in series:
        for type_url in TYPES:
            one.sent(type_url)

    def acks() -> None:
        for _ in range(rounds):
            for one in series:
                one.acked(TypeUrl.LISTENER, 0.2)

    out = {"ack_us": clock(acks) / (rounds * proxies) * 1e6}
    body = b""

    def render() -> None:
        nonlocal body
        body = metrics.render()

    out["cold_s"] = clock(render)
    out["warm_s"] = clock(render)
    for one in series[: proxies // 10]:
        one.acked(TypeUrl.LISTENER, 0.3)
    out["tenth_s"] = clock(render)
    out["mb"] = len(body) / 1e6
    out["drop_us"] = clock(lambda: [one.drop() for one in series]) / proxies * 1e6
    return out


def client_library(proxies: int, rounds: int) -> dict[str, float]:
    registry = CollectorRegistry()
    labels = ("mesh", "proxy", "type")
    ack = Histogram("ack_seconds", "ack", labels, buckets=ACK_BUCKETS, registry=registry)
    nacks = Counter("proxy_nacks", "nacks", labels, registry=registry)
    keys = [("default", f"default.web-{i}", t.short) for i in range(proxies) for t in TYPES]
    children = {key: (ack.labels(*key), nacks.labels(*key)) for key in keys}
    lds = [children[key][0] for key in keys if key[2] == "LDS"]

    def acks() -> None:
        for _ in range(rounds):
            for child in lds:
                child.observe(0.2)

    out = {"ack_us": clock(acks) / (rounds * proxies) * 1e6}
    body = b""

    def render() -> None:
        nonlocal body
        body = generate_latest(registry)

    out["cold_s"] = clock(render)
    out["warm_s"] = clock(render)
    for child in lds[: proxies // 10]:
        child.observe(0.3)
    out["tenth_s"] = clock(render)
    out["mb"] = len(body) / 1e6

    def drop() -> None:
        for key in keys:
            ack.remove(*key)
            nacks.remove(*key)

    out["drop_us"] = clock(drop) / proxies * 1e6
    return out


def median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--proxies", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(
        f"{args.proxies} proxies x {len(TYPES)} types; {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}\n"
    )
    print(
        "| series kept by | per ACK (µs) | scrape cold (s) | scrape warm (s) "
        "| scrape, 10 % changed (s) | scrape size (MB) | per disconnect (µs) |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, measure in (("reconciler (own text)", ours), ("prometheus_client", client_library)):
        r = median([measure(args.proxies, args.rounds) for _ in range(3)])
        print(
            f"| {name} | {r['ack_us']:.2f} | {r['cold_s']:.3f} | {r['warm_s']:.3f} "
            f"| {r['tenth_s']:.3f} | {r['mb']:.1f} | {r['drop_us']:.1f} |"
        )


if __name__ == "__main__":
    main()
