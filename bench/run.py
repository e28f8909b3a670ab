"""Run the benchmarks recorded in BENCHMARKS.md, one area after another.

    .venv/bin/python bench/run.py [AREA ...]     # default: every area, in pipeline order

Each area is a script in this directory that prints markdown tables; this runner only
starts them (as separate processes, so one area's memory and threads never skew the next)
and says how long each took. Copy the tables into BENCHMARKS.md with the machine's load.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
AREAS = (
    "startup",
    "validate",
    "parsers",
    "rules",
    "compile",
    "mesh_trace",
    "xds",
    "identity",
    "identity_push",
    "gitops",
    "replicas",
    "console",
    "revision",
    "memory",
    "mesh_connect",
    "generations",
    "scale",
    "delivery_metrics",
    "action",
)


def main(argv: list[str]) -> int:
    chosen = argv or list(AREAS)
    unknown = [a for a in chosen if a not in AREAS]
    if unknown:
        print(f"unknown area(s): {', '.join(unknown)}; choose from {', '.join(AREAS)}")
        return 2
    failed = []
    for area in chosen:
        print(f"\n## {area}\n", flush=True)
        start = time.monotonic()
        # Run from the repository root: a script's own directory first on sys.path would let
        # bench/validate.py shadow the `validate` package that Envoy's protos import.
        code = subprocess.call([sys.executable, "-P", str(HERE / f"{area}.py")], cwd=HERE.parent)
        print(f"\n({area}: {time.monotonic() - start:.1f} s, exit {code})", flush=True)
        if code:
            failed.append(area)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
