"""Start-up benchmark: wall time of short `reconciler` commands, each a fresh process.

    .venv/bin/python bench/startup.py [--repeat 20] [--source DIR ...]

Runs each command ``--repeat`` times (after one untimed run that warms the OS file cache and
the result cache) from the repository root as ``python -P -m reconciler ...``: what the
``reconciler`` script does (``-P`` keeps the current directory off ``sys.path``). Prints a
markdown table: median and minimum wall time, the number of modules the process imported
(``-X importtime``; a module imported by ``importlib.import_module`` is not listed itself,
its own imports are) and whether ``grpc`` and ``google.protobuf`` were among them.

``--source DIR`` runs the code of another checkout instead of the installed package (put
first on ``PYTHONPATH``, same virtualenv), e.g. an older commit unpacked with ``git archive
REV | tar -x -C DIR``; several ``--source`` are timed in turn, run after run, so a change in
the machine's load hits them alike. The validate rows read ``sample-repo`` (17 files);
``--no-cache`` is a cold validation, the other row reads the per-file cache.
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
    ("serve", "--help"),
)


def _env(source: str | None, cache: str) -> dict[str, str]:
    env = dict(os.environ, XDG_CACHE_HOME=cache)
    env.pop("PYTHONPATH", None)
    if source is not None:
        env["PYTHONPATH"] = source
    return env


def _timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def _imports(argv: list[str], env: dict[str, str]) -> tuple[int, bool, bool]:
    """(modules imported, grpc imported, google.protobuf imported) for one run."""
    proc = subprocess.run(
        [argv[0], "-X", "importtime", *argv[1:]],
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
        if line.startswith("import time:") and "imported package" not in line
    ]
    return len(names), "grpc" in names, "google.protobuf" in names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"))
    parser.add_argument("--source", action="append", metavar="DIR", help="a checkout to run")
    args = parser.parse_args()
    sources: list[str | None] = list(args.source) if args.source else [None]
    with tempfile.TemporaryDirectory(prefix="reconciler-startup-") as tmp:
        envs = [_env(s, f"{tmp}/cache-{i}") for i, s in enumerate(sources)]
        print(
            f"Machine: {os.cpu_count()} CPU {platform.machine()}, Python "
            f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the start; "
            f"{args.repeat} runs per command.\n"
        )
        print("| command | code | median | min | modules imported | grpc | protobuf |")
        print("|---|---|---|---|---|---|---|")
        for command in COMMANDS:
            argv = [args.python, "-P", "-m", "reconciler", *command]
            times: list[list[float]] = [[] for _ in sources]
            for env in envs:
                _timed(argv, env)
            for _ in range(args.repeat):
                for i, env in enumerate(envs):
                    times[i].append(_timed(argv, env))
            for i, source in enumerate(sources):
                count, grpc, protobuf = _imports(argv, envs[i])
                print(
                    f"| `reconciler {' '.join(command)}` | {source or 'installed'} "
                    f"| {statistics.median(times[i]) * 1000:.0f} ms "
                    f"| {min(times[i]) * 1000:.0f} ms | {count} | {'yes' if grpc else 'no'} "
                    f"| {'yes' if protobuf else 'no'} |",
                    flush=True,
                )
        print(f"\nLoad average {os.getloadavg()[0]:.1f} at the end.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
