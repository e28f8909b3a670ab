"""Compile benchmark: full compile, incremental recompile after one policy edit, sharing.

    .venv/bin/python bench/compile.py [--dataplanes 1000] [--services 200] [--policies 100]
                                      [--repeat 3]

Generates the repository of ``bench/generate_mesh.py`` (1,000 Dataplanes, 200 services,
100 policies by default), loads and validates it once, then measures the compile stage
only (``Compiler.compile``), in-process:

* full: a fresh ``Compiler`` each time (median of ``--repeat`` runs), per proxy;
* incremental: the same ``Compiler`` after one MeshTimeout's ``requestTimeout`` changed on
  disk (re-loaded), recompiling only the proxies it selects; its output is checked to equal
  a full compile of the edited repository;
* sharing: resources referenced by all proxies versus distinct message objects;
* memory: Python heap held by the compile result (tracemalloc, a separate run), per proxy.

Prints markdown tables.
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
import tracemalloc
from pathlib import Path
from typing import Any

# bench/ holds validate.py and xds.py, which would shadow xds-protos' top-level packages.
BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]

import yaml  # noqa: E402

from reconciler.compile.compiler import Compiler, CompileResult  # noqa: E402
from reconciler.pipeline import Analysis, analyze_paths  # noqa: E402
from reconciler.resource_types import TypeUrl  # noqa: E402


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("generate_mesh", BENCH / "generate_mesh.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate


def timed_full(analysis: Analysis, repeat: int) -> tuple[float, float, CompileResult]:
    """Median wall and CPU seconds of a full compile with a fresh Compiler."""
    walls: list[float] = []
    cpus: list[float] = []
    result: CompileResult | None = None
    for _ in range(repeat):
        gc.collect()
        start, cpu = time.perf_counter(), time.process_time()
        result = Compiler().compile(analysis.resources)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    assert result is not None
    return statistics.median(walls), statistics.median(cpus), result


def sharing(result: CompileResult) -> list[tuple[str, int, int]]:
    rows = []
    for type_url in (TypeUrl.LISTENER, TypeUrl.ROUTE, TypeUrl.CLUSTER, TypeUrl.ENDPOINT):
        refs = [m for c in result.configs.values() for m in c.of(type_url)]
        rows.append((type_url.group, len(refs), len({id(m) for m in refs})))
    return rows


def retained_bytes(analysis: Analysis) -> int:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    result = Compiler().compile(analysis.resources)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del result
    return after - before


def edit_one_timeout(root: Path) -> Path:
    path = sorted((root / "policies" / "meshtimeout").glob("*.yaml"))[0]
    doc = yaml.safe_load(path.read_text())
    doc["spec"]["to"][0]["default"]["http"]["requestTimeout"] = "42s"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def same_output(a: CompileResult, b: CompileResult) -> bool:
    if set(a.configs) != set(b.configs):
        return False
    for node, config in a.configs.items():
        other = b.configs[node]
        for type_url in TypeUrl:
            left = [m.SerializeToString(deterministic=True) for m in config.of(type_url)]
            right = [m.SerializeToString(deterministic=True) for m in other.of(type_url)]
            if left != right:
                return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataplanes", type=int, default=1000)
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--policies", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-compile-") as tmp:
        root = Path(tmp) / "mesh"
        _generator()(
            root, dataplanes=args.dataplanes, services=args.services, policies=args.policies
        )
        analysis = analyze_paths([root])
        errors = [d for d in analysis.diagnostics if d.severity == "error"]
        assert not errors, errors[:3]
        full_s, full_cpu, full = timed_full(analysis, args.repeat)
        proxies = len(full.configs)

        compiler = Compiler()
        compiler.compile(analysis.resources)
        edited = edit_one_timeout(root)
        changed = analyze_paths([root])
        gc.collect()
        start, cpu = time.perf_counter(), time.process_time()
        incremental = compiler.compile(changed.resources)
        incremental_s = time.perf_counter() - start
        incremental_cpu = time.process_time() - cpu
        reference = Compiler().compile(changed.resources)
        equal = same_output(incremental, reference)
        memory = retained_bytes(analysis)

    load = os.getloadavg()[0]
    print(
        f"## Compile ({platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, load average {load:.1f} at the end)\n"
    )
    print(
        f"Input: {args.dataplanes} Dataplanes, {args.services} services, {args.policies} "
        f"policies (+ Kuma's initial defaults); {proxies} proxies compiled.\n"
    )
    print("| measure | wall | CPU |")
    print("|---|---|---|")
    print(f"| full compile (median of {args.repeat}) | {full_s:.3f} s | {full_cpu:.3f} s |")
    print(f"| per proxy | {full_s / proxies * 1e3:.2f} ms | {full_cpu / proxies * 1e3:.2f} ms |")
    print(
        f"| incremental after editing `{edited.name}` ({len(incremental.compiled)} proxies "
        f"recompiled) | {incremental_s * 1e3:.1f} ms | {incremental_cpu * 1e3:.1f} ms |"
    )
    print(
        f"| full / incremental | {full_s / incremental_s:.1f}x | "
        f"{full_cpu / max(incremental_cpu, 1e-9):.1f}x |"
    )
    print(f"| incremental output equals a full compile | {'yes' if equal else 'NO'} | |")
    print(
        f"| Python heap held by the result | {memory / 2**20:.1f} MiB "
        f"({memory / proxies / 1024:.1f} KiB per proxy) | |"
    )
    print()
    print("| resources | referenced by proxies | distinct objects | shared |")
    print("|---|---|---|---|")
    for group, refs, distinct in sharing(full):
        ratio = refs / distinct if distinct else 0.0
        print(f"| {group} | {refs} | {distinct} | {ratio:.1f}x |")
    print()
    print("| cache (full compile) | built | reused |")
    print("|---|---|---|")
    for name, counter in full.shared.items():
        print(f"| {name} | {counter.built} | {counter.shared} |")


if __name__ == "__main__":
    main()
