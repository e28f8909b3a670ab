"""MeshTrace cost: a full compile of the bench mesh with a mesh-wide MeshTrace versus without.

    .venv/bin/python bench/mesh_trace.py [--dataplanes 1000] [--services 200] [--policies 100]
                                         [--repeat 3]

Generates the repository of ``bench/generate_mesh.py``, loads and validates it once, and
times ``Compiler.compile`` (a fresh Compiler each run, median of ``--repeat``) on it as is
and with one more file: a MeshTrace selecting every proxy (Zipkin backend, sampling and two
tags), which puts the tracing provider on every inbound and outbound HTTP connection manager
and adds the collector cluster to every proxy; then with a mesh-wide MeshMetric as well (the
Prometheus listener and the admin cluster on every proxy: issue 15's "MeshTrace + MeshMetric"
figure). Also the serialized bytes per proxy (all its xDS resources). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# bench/ holds validate.py and xds.py, which would shadow xds-protos' top-level packages.
BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]

from reconciler.compile.compiler import Compiler, CompileResult  # noqa: E402
from reconciler.pipeline import Analysis, analyze_paths  # noqa: E402
from reconciler.resource_types import TypeUrl  # noqa: E402

MESH_TRACE = """\
type: MeshTrace
name: bench-tracing
mesh: default
spec:
  targetRef: {kind: Mesh}
  default:
    backends:
      - type: Zipkin
        zipkin: {url: "http://zipkin.observability:9411/api/v2/spans"}
    sampling: {overall: 5}
    tags:
      - {name: env, literal: bench}
      - {name: user, header: {name: x-user, default: anonymous}}
"""


def _bench(name: str) -> Any:
    """Another script of ``bench/``, loaded by path (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True, slots=True)
class Figures:
    wall: float
    cpu: float
    proxies: int
    traced: int
    bytes_per_proxy: float


def timed(analysis: Analysis, repeat: int) -> Figures:
    """Median wall and CPU of ``repeat`` full compiles, and what one result holds; no result
    is kept, so a later configuration does not pay the garbage collector for this one's."""
    walls: list[float] = []
    cpus: list[float] = []
    result: CompileResult | None = None
    for _ in range(repeat):
        result = None
        gc.collect()
        start, cpu = time.perf_counter(), time.process_time()
        result = Compiler().compile(analysis.resources)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    assert result is not None
    traced = sum(
        1 for c in result.configs.values() if "meshtrace:zipkin" in c.by_name()[TypeUrl.CLUSTER]
    )
    return Figures(
        statistics.median(walls),
        statistics.median(cpus),
        len(result.configs),
        traced,
        bytes_per_proxy(result),
    )


def bytes_per_proxy(result: CompileResult) -> float:
    total = sum(
        len(m.SerializeToString(deterministic=True))
        for config in result.configs.values()
        for type_url in TypeUrl
        for m in config.of(type_url)
    )
    return total / len(result.configs)


def load(root: Path) -> Analysis:
    analysis = analyze_paths([root])
    errors = [d for d in analysis.diagnostics if d.severity == "error"]
    assert not errors, errors[:3]
    return analysis


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataplanes", type=int, default=1000)
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--policies", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-trace-") as tmp:
        root = Path(tmp) / "mesh"
        _bench("generate_mesh").generate(
            root, dataplanes=args.dataplanes, services=args.services, policies=args.policies
        )
        without = timed(load(root), args.repeat)
        (root / "policies" / "mesh-trace.yaml").write_text(MESH_TRACE)
        with_trace = timed(load(root), args.repeat)
        (root / "policies" / "mesh-metric.yaml").write_text(_bench("mesh_metric").METRIC)
        with_both = timed(load(root), args.repeat)
    proxies, traced = without.proxies, with_trace.traced
    before, after, both = (
        without.bytes_per_proxy,
        with_trace.bytes_per_proxy,
        with_both.bytes_per_proxy,
    )
    print(
        f"## MeshTrace ({platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the end)\n"
    )
    print(
        f"Input: {args.dataplanes} Dataplanes, {args.services} services, {args.policies} "
        f"policies; {proxies} proxies, {traced} with the collector cluster.\n"
    )
    print(f"| full compile (median of {args.repeat}) | wall | CPU | bytes per proxy |")
    print("|---|---|---|---|")
    print(f"| without MeshTrace | {without.wall:.3f} s | {without.cpu:.3f} s | {before:,.0f} |")
    print(
        f"| with a mesh-wide MeshTrace | {with_trace.wall:.3f} s | {with_trace.cpu:.3f} s | "
        f"{after:,.0f} |"
    )
    print(
        f"| ratio / added | {with_trace.wall / without.wall:.2f}x | "
        f"{with_trace.cpu / without.cpu:.2f}x | +{after - before:,.0f} |"
    )
    print(
        f"| with a mesh-wide MeshTrace and MeshMetric | {with_both.wall:.3f} s | "
        f"{with_both.cpu:.3f} s | {both:,.0f} |"
    )
    print(
        f"| ratio / added (both, against without) | {with_both.wall / without.wall:.2f}x | "
        f"{with_both.cpu / without.cpu:.2f}x | +{both - before:,.0f} |"
    )


if __name__ == "__main__":
    main()
