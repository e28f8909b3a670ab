"""Start-up benchmark: wall time of short `reconciler` commands, each a fresh process.

    .venv/bin/python bench/startup.py [--repeat 20] [--reconciler .venv/bin/reconciler]

Runs each command ``--repeat`` times (after one untimed run that warms the OS file cache)
from the repository root and prints a markdown table: median and minimum wall time, and the
number of modules the process imported (``python -X importtime``), with whether ``grpc`` and
``google.protobuf`` were among them. The validate rows read ``sample-repo`` (17 files);
``--no-cache`` is a cold validation, the other row reads the per-file cache filled by the
untimed run.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

COMMANDS: tuple[tuple[str, ...], ...] = (
    ("--version",),
    ("--help",),
    ("explain-code", "RC201"),
    ("validate", "sample-repo", "--no-cache"),
    ("validate", "sample-repo"),
    ("bootstrap", "--proxy", "default.frontend-1"),
)


def _timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def _imports(python: str, args: tuple[str, ...], env: dict[str, str]) -> tuple[int, bool, bool]:
    """(modules imported, grpc imported, google.protobuf imported) for one run."""
    proc = subprocess.run(
        [python, "-X", "importtime", "-m", "reconciler", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=True,
    )
    names = [
        line.rsplit("|", 1)[1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and "|" in line and "imported package" not in line
    ]
    grpc = any(n.strip() == "grpc" for n in names)
    protobuf = any(n.strip() == "google.protobuf" for n in names)
    return len(names), grpc, protobuf


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--reconciler", default=str(ROOT / ".venv" / "bin" / "reconciler"))
    args = parser.parse_args()
    python = str(Path(args.reconciler).with_name("python"))
    with tempfile.TemporaryDirectory(prefix="reconciler-startup-") as cache:
        env = dict(os.environ, XDG_CACHE_HOME=cache)
        print(
            f"Machine: {os.cpu_count()} CPU {platform.machine()}, Python "
            f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}; "
            f"{args.repeat} runs per command.\n"
        )
        print("| command | median | min | modules imported | grpc | protobuf |")
        print("|---|---|---|---|---|---|")
        for command in COMMANDS:
            argv = [args.reconciler, *command]
            _timed(argv, env)
            times = [_timed(argv, env) for _ in range(args.repeat)]
            count, grpc, protobuf = _imports(python, command, env)
            print(
                f"| `reconciler {' '.join(command)}` | {statistics.median(times) * 1000:.0f} ms "
                f"| {min(times) * 1000:.0f} ms | {count} | {'yes' if grpc else 'no'} "
                f"| {'yes' if protobuf else 'no'} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
