"""Validation benchmark: `reconciler validate` cold and warm, and check-jsonschema, same files.

    .venv/bin/python bench/validate.py [--dataplanes 1000] [--services 200] [--policies 3999]
                                       [--repeat 3] [--profile] [--warm-only]
                                       [--split-sizes 1000,2000]

Generates the repository of ``bench/generate_mesh.py`` (5,000 files by default) and times, as
subprocesses, in one run:

* ``reconciler validate`` cold: an empty ``--cache-dir`` (and with ``--no-cache``);
* ``reconciler validate`` warm: the cache filled by a previous run, after one file changed;
* ``reconciler validate`` warm with nothing changed;
* ``check-jsonschema --schemafile <reconciler schema --all>`` on the same files.

``--warm-only`` times the warm runs and their references (``python -c pass``,
``reconciler --version``) only, each a subprocess, the runs interleaved round by round.

It also times in-process ``analyze_paths`` with 1 and 2 parsing processes (each in a fresh
interpreter), on this repository and on the smaller ones of ``--split-sizes``.
Then it splits a cold run into stages in-process (interpreter start and imports, read, YAML
load, schema, per-resource rules, cross-resource rules) to show where the time goes;
``--profile`` also prints the top functions of a cold run (cProfile) on stderr.
Prints markdown tables (median of ``--repeat`` runs).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib.util
import os
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

# Run as a script, bench/ is sys.path[0]: this very file (validate.py) and xds.py would then
# shadow xds-protos' top-level `validate` and `xds` packages. Take bench/ off the path and
# load the generator by file name.
BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_mesh", BENCH / "generate_mesh.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generate_mesh = _load_generator()
BIN = Path(sys.executable).parent
TIMEOUT_S = 600


Timing = tuple[float, float]
"""(wall seconds, CPU seconds of the child: user + system)."""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_timed(
    argv: Sequence[str | os.PathLike[str]], *, ok_codes: tuple[int, ...] = (0,)
) -> Timing:
    cpu_before = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )
    elapsed = time.perf_counter() - start
    cpu = _children_cpu() - cpu_before
    if done.returncode not in ok_codes:
        tail = (done.stdout + done.stderr)[-2000:]
        raise SystemExit(f"{argv[0]} exited {done.returncode}:\n{tail}")
    return elapsed, cpu


def median_of(repeat: int, once: Callable[[int], Timing]) -> tuple[float, float, float]:
    """Median wall, best wall and median CPU seconds of ``repeat`` runs."""
    runs = [once(i) for i in range(repeat)]
    walls = [w for w, _ in runs]
    return statistics.median(walls), min(walls), statistics.median(c for _, c in runs)


BARE_LOAD = """
import sys, yaml
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as fh:
        list(yaml.load_all(fh.read(), Loader=yaml.CSafeLoader))
"""
"""The reference: a bare ``yaml.load_all`` with libyaml over the same files (no marks kept,
no duplicate-key or limit checks, no validation)."""


def bare_load(files: list[str]) -> Timing:
    return run_timed([sys.executable, "-c", BARE_LOAD, *files])


def workers_split(repo: Path, repeat: int) -> list[tuple[int, float, float, float]]:
    """In-process ``analyze_paths`` (no cache) with 1 and 2 parsing processes, each in a
    fresh interpreter: (workers, wall, CPU of the main process, CPU of the workers)."""
    code = (
        "import gc, resource, sys, time\n"
        "gc.disable()\n"
        "from reconciler.pipeline import analyze_paths\n"
        "w = int(sys.argv[2])\n"
        "t, c = time.perf_counter(), time.process_time()\n"
        "analyze_paths([sys.argv[1]], workers=w)\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(time.perf_counter() - t, time.process_time() - c, u.ru_utime + u.ru_stime)\n"
    )
    rows = []
    for workers in (1, 2):
        runs = []
        for _ in range(repeat):
            out = subprocess.run(
                [sys.executable, "-c", code, str(repo), str(workers)],
                capture_output=True,
                text=True,
                check=True,
                timeout=TIMEOUT_S,
            ).stdout.split()
            runs.append(tuple(float(x) for x in out))
        rows.append(
            (
                workers,
                statistics.median(r[0] for r in runs),
                statistics.median(r[1] for r in runs),
                statistics.median(r[2] for r in runs),
            )
        )
    return rows


def count_files(repo: Path) -> int:
    return sum(1 for _ in repo.rglob("*.yaml"))


def touch_one_file(repo: Path, round_: int) -> None:
    """Change one policy in a valid way (a new timeout value): a new content hash."""
    path = sorted((repo / "policies" / "meshtimeout").glob("*.yaml"))[0]
    text = path.read_text("utf-8")
    marker = "requestTimeout: "
    start = text.index(marker) + len(marker)
    end = text.index("\n", start)
    path.write_text(f"{text[:start]}{40 + round_}s{text[end:]}", "utf-8")


def stage_times(repo: Path) -> list[tuple[str, float]]:
    """CPU seconds of a cold analysis, stage by stage, in a fresh interpreter.

    CPU time (not wall time) so that other jobs on the machine do not distort the split. The
    garbage collector is off here: its collections land in whichever stage happens to
    trigger them, so :func:`gc_effect` measures their cost separately.
    """
    code = f"""
import gc
import time
gc.disable()
t0 = time.process_time()
from reconciler.load import load_file
from reconciler.pipeline import read_paths
from reconciler.validate import check_mesh
from reconciler.validate.kind_rules import check_rules
from reconciler.validate.schema import check_schema
t1 = time.process_time()
files, _ = read_paths([{str(repo)!r}])
t2 = time.process_time()
resources = [r for f in files for r in load_file(f).resources]
t3 = time.process_time()
for r in resources:
    check_schema(r)
t4 = time.process_time()
for r in resources:
    check_rules(r)
t5 = time.process_time()
check_mesh(resources)
t6 = time.process_time()
print(t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5)
"""
    cpu_before = _children_cpu()
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT_S, check=True
    )
    total = _children_cpu() - cpu_before
    parts = [float(x) for x in out.stdout.split()]
    names = [
        "imports",
        "read files",
        "YAML load",
        "schema",
        "rules (per resource)",
        "cross-resource",
    ]
    measured = list(zip(names, parts, strict=True))
    return [("interpreter start + exit", total - sum(parts)), *measured]


def gc_effect(repo: Path) -> tuple[float, float]:
    """CPU seconds of in-process analyze() with the garbage collector on, then off."""
    from reconciler.pipeline import analyze, read_paths

    files, _ = read_paths([repo])
    results = []
    for disable in (False, True):
        gc.collect()
        if disable:
            gc.disable()
        start = time.process_time()
        analyze(files)
        results.append(time.process_time() - start)
        gc.enable()
    return results[0], results[1]


def profile(repo: Path) -> None:
    from reconciler.pipeline import analyze_paths

    profiler = cProfile.Profile()
    profiler.enable()
    analyze_paths([repo])
    profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stderr)
    stats.sort_stats("cumulative").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataplanes", type=int, default=generate_mesh.DEFAULT_DATAPLANES)
    parser.add_argument("--services", type=int, default=generate_mesh.DEFAULT_SERVICES)
    parser.add_argument("--policies", type=int, default=generate_mesh.DEFAULT_POLICIES)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--split-sizes",
        default="",
        help="comma-separated file counts: the parsing-processes table for smaller repositories too",
    )
    parser.add_argument(
        "--skip-check-jsonschema", action="store_true", help="its 30 s per run left out"
    )
    parser.add_argument(
        "--warm-only", action="store_true", help="the warm runs and their references only"
    )
    args = parser.parse_args()
    if args.warm_only:
        warm_only(args)
        return
    reconciler = BIN / "reconciler"
    check_jsonschema = BIN / "check-jsonschema"

    with tempfile.TemporaryDirectory(prefix="bench-validate-") as tmp_name:
        tmp = Path(tmp_name)
        repo = tmp / "repo"
        generate_mesh.generate(
            repo, dataplanes=args.dataplanes, services=args.services, policies=args.policies
        )
        files = sorted(str(p) for p in repo.rglob("*.yaml"))
        schema = tmp / "all.schema.json"
        with schema.open("w", encoding="utf-8") as fh:
            subprocess.run([reconciler, "schema", "--all"], stdout=fh, check=True, timeout=60)

        cold = median_of(
            args.repeat,
            lambda i: run_timed([reconciler, "validate", "--cache-dir", tmp / f"cold-{i}", repo]),
        )
        no_cache = median_of(
            args.repeat, lambda i: run_timed([reconciler, "validate", "--no-cache", repo])
        )
        warm_dir = tmp / "warm"
        run_timed([reconciler, "validate", "--cache-dir", warm_dir, repo])

        def warm_once(i: int) -> Timing:
            touch_one_file(repo, i)
            return run_timed([reconciler, "validate", "--cache-dir", warm_dir, repo])

        warm = median_of(args.repeat, warm_once)
        bare = median_of(args.repeat, lambda i: bare_load(files))
        interpreter = median_of(args.repeat, lambda i: run_timed([sys.executable, "-c", "pass"]))
        version = median_of(args.repeat, lambda i: run_timed([reconciler, "--version"]))
        split = [(count_files(repo), *row) for row in workers_split(repo, args.repeat)]
        for size in (int(n) for n in args.split_sizes.split(",") if n):
            smaller = tmp / f"repo-{size}"
            generate_mesh.generate(
                smaller,
                dataplanes=size // 5,
                services=max(size // 25, 1),
                policies=size - size // 5 - 1,
            )
            split += [(count_files(smaller), *row) for row in workers_split(smaller, args.repeat)]
        cj = (
            (float("nan"),) * 3
            if args.skip_check_jsonschema
            else median_of(
                args.repeat,
                lambda i: run_timed([check_jsonschema, "--schemafile", schema, *files]),
            )
        )
        stages = stage_times(repo)
        gc_on, gc_off = gc_effect(repo)
        if args.profile:
            profile(repo)

    count = len(files)
    print(f"Repository: {count} files ({args.dataplanes} Dataplanes, {args.services} services, ")
    print(f"{args.policies} policies of 11 kinds, 1 Mesh); {os.cpu_count()} CPUs, ")
    print(f"Python {platform.python_version()}, {platform.machine()}; median of {args.repeat}.\n")
    print("| run | wall, median (s) | wall, best (s) | CPU, median (s) | goal |")
    print("|---|---:|---:|---:|---|")
    rows = [
        ("`reconciler validate`, cold (empty cache dir)", cold, "< 1 s"),
        ("`reconciler validate --no-cache`", no_cache, "< 1 s"),
        ("`reconciler validate`, warm (1 file changed)", warm, "< 0.1 s"),
        ("`check-jsonschema` (`schema --all`), same files", cj, "slower than cold"),
        ("reference: bare `yaml.load_all` (CSafeLoader), same files", bare, ""),
        ("reference: interpreter start and exit (`python -c pass`)", interpreter, ""),
        ("reference: `reconciler --version`", version, ""),
    ]
    for label, (median, best, cpu), goal in rows:
        print(f"| {label} | {median:.2f} | {best:.2f} | {cpu:.2f} | {goal} |")
    print(
        f"\nRatios to the bare load in the same run (wall / CPU): cold {cold[0] / bare[0]:.2f}x"
        f" / {cold[2] / bare[2]:.2f}x, `--no-cache` {no_cache[0] / bare[0]:.2f}x / "
        f"{no_cache[2] / bare[2]:.2f}x, warm {warm[0] / bare[0]:.2f}x / {warm[2] / bare[2]:.2f}x "
        "(goal: cold at most 0.6x). Warm over an empty interpreter's start (CPU): "
        f"{warm[2] / interpreter[2]:.1f}x; over `reconciler --version`: "
        f"{warm[2] / version[2]:.1f}x."
    )
    print("\nParsing processes (`analyze_paths`, no cache, fresh interpreter, imports excluded):\n")
    print("| files | processes | wall (s) | CPU, main process (s) | CPU, workers (s) |")
    print("|---:|---:|---:|---:|---:|")
    for files_, workers, wall, main_cpu, worker_cpu in split:
        print(f"| {files_} | {workers} | {wall:.3f} | {main_cpu:.3f} | {worker_cpu:.3f} |")
    print(f"\nLoad average at the end: {os.getloadavg()[0]:.1f}.")
    print("\nWhere a cold run's time goes (CPU seconds; stages in one fresh interpreter with the")
    print("garbage collector off, then the collector's own cost measured in-process):\n")
    print("| stage | CPU s | share |")
    print("|---|---:|---:|")
    rows_cpu = [*stages, ("garbage collector (on minus off)", max(gc_on - gc_off, 0.0))]
    total = sum(t for _, t in rows_cpu)
    for name, seconds in rows_cpu:
        print(f"| {name} | {seconds:.3f} | {seconds / total:.0%} |")
    print(f"| total | {total:.3f} | |")
    print(
        f"\nIn-process `analyze()` of the same files: {gc_on:.2f} s CPU with the garbage "
        f"collector on, {gc_off:.2f} s with it off."
    )


def warm_only(args: argparse.Namespace) -> None:
    """Warm runs (one file changed, nothing changed) and the references, interleaved."""
    reconciler = BIN / "reconciler"
    with tempfile.TemporaryDirectory(prefix="bench-validate-") as tmp_name:
        tmp = Path(tmp_name)
        repo = tmp / "repo"
        generate_mesh.generate(
            repo, dataplanes=args.dataplanes, services=args.services, policies=args.policies
        )
        count = sum(1 for _ in repo.rglob("*.yaml"))
        cache = tmp / "cache"
        time.sleep(RACY_PAUSE_S)  # files older than the racy-clean window of the cache
        run_timed([reconciler, "validate", "--cache-dir", cache, repo])
        rows: dict[str, list[Timing]] = {}

        def changed(i: int) -> Timing:
            touch_one_file(repo, i)
            return run_timed([reconciler, "validate", "--cache-dir", cache, repo])

        runs: list[tuple[str, Callable[[int], Timing]]] = [
            ("`reconciler validate`, warm (1 file changed)", changed),
            (
                "`reconciler validate`, warm (nothing changed)",
                lambda i: run_timed([reconciler, "validate", "--cache-dir", cache, repo]),
            ),
            ("reference: `python -c pass`", lambda i: run_timed([sys.executable, "-c", "pass"])),
            ("reference: `reconciler --version`", lambda i: run_timed([reconciler, "--version"])),
        ]
        for i in range(args.repeat):
            for label, once in runs:
                rows.setdefault(label, []).append(once(i))
        serving = serving_analysis(repo, args.repeat)
    print(f"Repository: {count} files; median of {args.repeat}, interleaved.\n")
    print("| run | wall, median (s) | CPU, median (s) | CPU / `python -c pass` |")
    print("|---|---:|---:|---:|")
    base = statistics.median(c for _, c in rows["reference: `python -c pass`"])
    for label, timings in rows.items():
        wall = statistics.median(w for w, _ in timings)
        cpu = statistics.median(c for _, c in timings)
        print(f"| {label} | {wall:.3f} | {cpu:.3f} | {cpu / base:.1f}x |")
    print(
        "\nThe serving loop's analysis of a one-file revision (in-process `RevisionAnalyzer`, "
        f"the previous revision analysed first): {serving * 1000:.1f} ms CPU, median."
    )
    print(f"\nLoad average at the end: {os.getloadavg()[0]:.1f}.")


def serving_analysis(repo: Path, repeat: int) -> float:
    """CPU seconds of the server's analysis of a revision that changes one file, the
    previous revision analysed by the same ``RevisionAnalyzer`` (in a fresh interpreter)."""
    code = f"""
import gc, time
from pathlib import Path
from reconciler.pipeline import read_paths
from reconciler.serve.analysis_cache import RevisionAnalyzer
gc.disable()
analyzer = RevisionAnalyzer(None)
repo = Path({str(repo)!r})
files, _ = read_paths([repo])
analyzer(files, ())
path = sorted((repo / "policies" / "meshtimeout").glob("*.yaml"))[1]
text = path.read_text("utf-8")
out = []
for i in range({repeat}):
    path.write_text(text.replace("requestTimeout: ", f"requestTimeout: 1{{i}}"), "utf-8")
    files, _ = read_paths([repo])
    start = time.process_time()
    analyzer(files, ())
    out.append(time.process_time() - start)
print(sorted(out)[len(out) // 2])
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT_S, check=True
    )
    return float(done.stdout.split()[-1])


RACY_PAUSE_S = 2.5
"""Files written less than 2 s before the cache are read again (racy-clean): wait it out."""


if __name__ == "__main__":
    main()
