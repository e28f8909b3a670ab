"""MeshMetric cost: compile and push preparation with a mesh-wide MeshMetric versus without.

    .venv/bin/python bench/mesh_metric.py [--dataplanes 1000] [--services 200]
                                          [--policies 100] [--repeat 3]

Generates the repository of ``bench/generate_mesh.py`` (the compile benchmark's mesh), then
measures the same repository twice: as generated, and with one mesh-wide MeshMetric (a
Prometheus backend, profile All). For each: a full ``Compiler.compile`` (median of
``--repeat``, wall and CPU) and ``build_snapshots`` with a fresh interner (serialization and
content hashes of every proxy's resources: the work done before the first push), and the
bytes a full push sends each proxy (the encoded resources of all its types, SDS excluded:
the compile stage does not attach secrets). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]

from reconciler.compile.compiler import Compiler, CompileResult  # noqa: E402
from reconciler.pipeline import analyze_paths  # noqa: E402
from reconciler.snapshot import build_snapshots  # noqa: E402
from reconciler.snapshot.snapshot import Interner, Snapshot  # noqa: E402

METRIC = """\
type: MeshMetric
name: prometheus
mesh: default
spec:
  targetRef: {kind: Mesh}
  default:
    sidecar:
      profiles:
        appendProfiles: [{name: All}]
    backends:
      - type: Prometheus
        prometheus: {port: 5670, path: /metrics}
"""


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("generate_mesh", BENCH / "generate_mesh.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate


def push_bytes(snapshot: Snapshot) -> int:
    return sum(
        e.any_end - e.any_start for t in snapshot.types.values() for e in t.resources.values()
    )


def measure(root: Path, repeat: int) -> dict[str, float]:
    analysis = analyze_paths([root])
    errors = [d for d in analysis.diagnostics if d.severity == "error"]
    assert not errors, errors[:3]
    walls, cpus, snap_walls, snap_cpus = [], [], [], []
    result: CompileResult | None = None
    snapshots: dict[str, Snapshot] = {}
    for _ in range(repeat):
        gc.collect()
        start, cpu = time.perf_counter(), time.process_time()
        result = Compiler().compile(analysis.resources)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
        gc.collect()
        start, cpu = time.perf_counter(), time.process_time()
        snapshots, problems = build_snapshots(result.configs, Interner())
        snap_walls.append(time.perf_counter() - start)
        snap_cpus.append(time.process_time() - cpu)
        assert not problems, problems[:3]
    assert result is not None
    sizes = [push_bytes(s) for s in snapshots.values()]
    return {
        "proxies": len(result.configs),
        "compile_wall": statistics.median(walls),
        "compile_cpu": statistics.median(cpus),
        "snapshot_wall": statistics.median(snap_walls),
        "snapshot_cpu": statistics.median(snap_cpus),
        "bytes_per_proxy": statistics.mean(sizes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataplanes", type=int, default=1000)
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--policies", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-mesh-metric-") as tmp:
        root = Path(tmp) / "mesh"
        _generator()(
            root, dataplanes=args.dataplanes, services=args.services, policies=args.policies
        )
        without = measure(root, args.repeat)
        (root / "policies" / "mesh-metric.yaml").write_text(METRIC)
        with_metric = measure(root, args.repeat)
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    print(f"proxies: {without['proxies']:.0f}\n")
    print("| measure | without | with a mesh-wide MeshMetric | ratio |")
    print("|---|---|---|---|")
    rows = [
        ("full compile, wall (median)", "compile_wall", "s"),
        ("full compile, CPU", "compile_cpu", "s"),
        ("build_snapshots (serialize + hash), wall", "snapshot_wall", "s"),
        ("build_snapshots, CPU", "snapshot_cpu", "s"),
        ("bytes of a full push, per proxy (mean)", "bytes_per_proxy", "B"),
    ]
    for label, key, unit in rows:
        a, b = without[key], with_metric[key]
        fmt = (lambda v: f"{v:.3f} s") if unit == "s" else (lambda v: f"{v:,.0f} B")
        print(f"| {label} | {fmt(a)} | {fmt(b)} | {b / a:.2f}x |")
    added = with_metric["bytes_per_proxy"] - without["bytes_per_proxy"]
    print(f"\nbytes added per proxy: {added:,.0f} B")


if __name__ == "__main__":
    main()
