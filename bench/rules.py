"""Semantic and cross-resource rules: time per rule family on a generated mesh.

    .venv/bin/python bench/rules.py [--dataplanes 1000 4000] [--repeat 3]

Generates the repository of ``bench/generate_mesh.py`` for each Dataplane count (policies
scale with it: 4 per Dataplane), loads it once, then times in-process (median of
``--repeat``): all per-resource rules (``check_resource``), each cross-resource rule over
every file (the facts index built first, ``index`` row) and the whole cross-resource check
(``check_mesh``). The cross-resource rules look up the index by mesh, service and name, so
their time should grow linearly with the number of resources. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import generate_mesh

from reconciler.load import load_file
from reconciler.model import Resource
from reconciler.pipeline import read_paths
from reconciler.validate import check_mesh, check_resource
from reconciler.validate.rules import CROSS_RESOURCE_RULES, CrossResourceRule
from reconciler.validate.rules.cross_view import CrossView, Entry, Key, facts


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
    return sum(len(check_resource(r)) for r in resources)


def _by_file(resources: Sequence[Resource]) -> dict[str, list[Resource]]:
    out: dict[str, list[Resource]] = {}
    for resource in resources:
        out.setdefault(resource.file, []).append(resource)
    return out


def _index(by_file: dict[str, list[Resource]]) -> dict[Key, list[Entry]]:
    index: dict[Key, list[Entry]] = {}
    for path, rs in by_file.items():
        for key, value in facts(rs):
            index.setdefault(key, []).append((path, value))
    return index


def _index_size(by_file: dict[str, list[Resource]]) -> int:
    return len(_index(by_file))


def _run_rule(rule: CrossResourceRule, view: CrossView, by_file: dict[str, list[Resource]]) -> int:
    return sum(len(rule(rs, view)) for rs in by_file.values())


def _check_mesh(resources: Sequence[Resource]) -> int:
    return len(check_mesh(resources))


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
        seconds, found = _median(partial(_per_resource, resources), args.repeat)
        rows.append(
            f"| {count} | {len(resources)} | per-resource rules | {seconds * 1000:.0f} | {found} |"
        )
        by_file = _by_file(resources)
        seconds, _ = _median(partial(_index_size, by_file), args.repeat)
        rows.append(f"| {count} | {len(resources)} | index | {seconds * 1000:.1f} | |")
        view = CrossView(_index(by_file), by_file.__getitem__)
        for rule in CROSS_RESOURCE_RULES:
            name = rule.__module__.rsplit(".", 1)[-1]
            seconds, found = _median(partial(_run_rule, rule, view, by_file), args.repeat)
            rows.append(f"| {count} | {len(resources)} | {name} | {seconds * 1000:.1f} | {found} |")
        seconds, found = _median(partial(_check_mesh, resources), args.repeat)
        rows.append(
            f"| {count} | {len(resources)} | check_mesh (all) | {seconds * 1000:.1f} | {found} |"
        )
    print("| Dataplanes | resources | rules | ms (median) | diagnostics |")
    print("|---:|---:|---|---:|---:|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
