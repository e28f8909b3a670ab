"""Semantic and cross-resource rules: time per rule family on a generated mesh.

    .venv/bin/python bench/rules.py [--dataplanes 1000 4000] [--repeat 3]

Generates the repository of ``bench/generate_mesh.py`` for each Dataplane count (policies
scale with it: 4 per Dataplane), loads it once, then times in-process (median of
``--repeat``): all per-resource rules (``RESOURCE_RULES``) and each cross-resource rule.
The cross-resource rules index by mesh, service and name, so their time should grow
linearly with the number of resources. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import generate_mesh

from reconciler.load import load_file
from reconciler.model import Resource
from reconciler.pipeline import read_paths
from reconciler.validate.rules import CROSS_RESOURCE_RULES, RESOURCE_RULES


def _load(root: Path) -> list[Resource]:
    files, _ = read_paths([root])
    resources: list[Resource] = []
    for file in files:
        resources.extend(load_file(file).resources)
    return resources


def _median(fn: Callable[[], int], repeat: int) -> tuple[float, int]:
    times: list[float] = []
    found = 0
    for _ in range(repeat):
        start = time.perf_counter()
        found = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), found


def _per_resource(resources: Sequence[Resource]) -> int:
    return sum(len(list(rule(r))) for r in resources for rule in RESOURCE_RULES.get(r.kind, ()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataplanes", type=int, nargs="+", default=[1000, 4000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    rows: list[str] = []
    for count in args.dataplanes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "mesh"
            generate_mesh.generate(
                root, dataplanes=count, services=max(1, count // 5), policies=count * 4 - 1
            )
            resources = _load(root)
        seconds, found = _median(lambda rs=resources: _per_resource(rs), args.repeat)
        rows.append(
            f"| {count} | {len(resources)} | per-resource rules | {seconds * 1000:.0f} | {found} |"
        )
        for rule in CROSS_RESOURCE_RULES:
            name = rule.__module__.rsplit(".", 1)[-1]
            seconds, found = _median(
                lambda r=rule, rs=resources: len(list(r(rs))),  # type: ignore[misc]
                args.repeat,
            )
            rows.append(f"| {count} | {len(resources)} | {name} | {seconds * 1000:.1f} | {found} |")
    print("| Dataplanes | resources | rules | ms (median) | diagnostics |")
    print("|---:|---:|---|---:|---:|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
