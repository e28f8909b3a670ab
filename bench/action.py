"""The GitHub Action's own work (after install) on a 5,000-file mesh repository, one-file PR.

Run: .venv/bin/python bench/action.py [--runs 3] [--dataplanes 1000] [--compile reached|all]

Builds an origin repository with bench/generate_mesh.py (1,000 Dataplanes, 200 services,
3,999 policies = 5,000 files), a base commit and a head commit that changes one file, and a
shallow checkout of the head (as actions/checkout makes it). Then runs action.yml's steps
for real through the local runner harness (tests/action/action_harness.py): the install
step uses this interpreter (RECONCILER_ACTION_PYTHON), then the base commit lookup, its
shallow fetch, validation of the head, the analysis of both commits and the compile of the
proxies the change can reach on both (the action's default, ``compile: reached``), the
per-proxy diff, annotations, step summary and SARIF. Prints a markdown table.

"cold" starts with an empty per-file cache; "warm" reuses the cache of the previous run
(the same installation running again, e.g. a self-hosted runner).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, bench/ is sys.path[0]; bench/validate.py would then shadow the `validate`
# package that xds-protos installs (and Envoy's protos import).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "action"))

from action_harness import run_action  # noqa: E402


def _load_generator() -> Any:
    # Loaded by path: bench/ on sys.path would shadow packages (bench/validate.py vs the
    # `validate` package that xds-protos installs).
    spec = importlib.util.spec_from_file_location("generate_mesh", ROOT / "bench/generate_mesh.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate


generate = _load_generator()

GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def git(cwd: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV},
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return out.stdout.strip()


def scoped_change(mesh: Path) -> str:
    """Edit one MeshService-scoped MeshRetry: only that service's proxies change."""
    for path in sorted((mesh / "policies" / "meshretry").iterdir()):
        text = path.read_text()
        if "  targetRef:\n    kind: MeshService\n" in text and "numRetries: " in text:
            path.write_text(text.replace("numRetries: ", "numRetries: 7\n#", 1))
            return str(path.relative_to(mesh.parent))
    raise SystemExit("no MeshService-scoped MeshRetry with numRetries")


def mesh_wide_change(mesh: Path) -> str:
    """Edit one Mesh-scoped MeshTimeout (towards one service): its callers change."""
    for path in sorted((mesh / "policies" / "meshtimeout").iterdir()):
        text = path.read_text()
        if "  targetRef:\n    kind: Mesh\n" in text and "idleTimeout:" in text:
            path.write_text(text.replace("idleTimeout:", "idleTimeout: 2h\n#", 1))
            return str(path.relative_to(mesh.parent))
    raise SystemExit("no Mesh-scoped MeshTimeout with an idleTimeout")


def whole_mesh_change(mesh: Path) -> str:
    """Edit the Mesh (mTLS mode STRICT -> PERMISSIVE): every proxy changes."""
    path = mesh / "mesh.yaml"
    text = path.read_text()
    if "mode: STRICT" not in text:
        raise SystemExit("the Mesh has no STRICT mTLS backend")
    path.write_text(text.replace("mode: STRICT", "mode: PERMISSIVE", 1))
    return str(path.relative_to(mesh.parent))


CHANGES = {"scoped": scoped_change, "mesh-wide": mesh_wide_change, "whole mesh": whole_mesh_change}


def make_pr(work: Path, dataplanes: int, change: str) -> tuple[Path, dict[str, object], str]:
    origin = work / "origin"
    generate(origin / "mesh", dataplanes=dataplanes)
    git(origin, "init", "-q", "-b", "main")
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "base")
    base = git(origin, "rev-parse", "HEAD")
    git(origin, "checkout", "-q", "-b", "pr")
    changed = CHANGES[change](origin / "mesh")
    git(origin, "commit", "-q", "-am", "one-file change")
    head = git(origin, "rev-parse", "HEAD")
    event = {
        "pull_request": {
            "number": 1,
            "base": {"sha": base, "ref": "main", "repo": {"full_name": "acme/mesh"}},
            "head": {"sha": head, "ref": "pr", "repo": {"full_name": "acme/mesh"}},
        },
        "repository": {"full_name": "acme/mesh"},
    }
    return origin, event, changed


def one_run(
    origin: Path, event: dict[str, object], work: Path, cache: Path, scope: str = "reached"
) -> tuple[float, float, dict[str, str]]:
    workspace = work / "workspace"
    shutil.rmtree(workspace, ignore_errors=True)
    git(work, "clone", "-q", "--depth", "1", "--branch", "pr", origin.as_uri(), str(workspace))
    temp = work / "runner-temp"
    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir()
    started = time.perf_counter()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = run_action(
        ROOT,
        workspace=workspace,
        runner_temp=temp,
        inputs={"path": "mesh", "sarif-file": "reconciler.sarif", "compile": scope},
        event=event,
        env={"RECONCILER_ACTION_PYTHON": sys.executable, "XDG_CACHE_HOME": str(cache)},
        step_timeout_s=1800,
    )
    elapsed = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    if result.exit_code != 0:
        raise SystemExit(f"action failed ({result.exit_code}):\n{result.stdout}\n{result.stderr}")
    found = re.search(r"Compiled the (\d+) of (\d+) proxies", result.summary)
    compiled = f"{found[1]} of {found[2]}" if found else "all"
    return elapsed, cpu, {**result.outputs, "compiled": compiled}


def phases(origin: Path, work: Path) -> list[str]:
    """The check step's phases, in-process, cold per-file cache: where the time goes."""
    from reconciler.action import summary
    from reconciler.cache import FileCache
    from reconciler.compile.compiler import compile_proxies, index_revision
    from reconciler.compile.reach import changed, reached
    from reconciler.compile.shared import Shared
    from reconciler.diff import diff_revisions
    from reconciler.pipeline import analyze, compilable, read_commit, read_directory

    workspace = work / "phases"
    git(work, "clone", "-q", "--branch", "pr", origin.as_uri(), str(workspace))
    rows: list[str] = []
    cwd = os.getcwd()
    os.chdir(workspace)
    try:

        def timed(label: str, fn: Any) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            value = fn()
            rows.append(
                f"| {label} | {time.perf_counter() - wall:.2f} s | {time.process_time() - cpu:.2f} s |"
            )
            return value

        cache_dir = work / "phase-cache"
        head = timed("read the head work tree (5,000 files)", lambda: read_directory("mesh"))
        base = timed(
            "read the base commit from git objects", lambda: read_commit(".", "origin/main", "mesh")
        )
        old = timed(
            "analyze base (load + validate, cold)",
            lambda: analyze(base.files, cache=FileCache(cache_dir)),
        )
        new = timed(
            "analyze head (4,999 files from the cache)",
            lambda: analyze(head.files, cache=FileCache(cache_dir)),
        )
        old_r, new_r = compilable(old), compilable(new)
        before, after = timed(
            "index both revisions (proxies, endpoints, destinations)",
            lambda: (index_revision(old_r), index_revision(new_r)),
        )
        nodes = timed(
            "proxies the change can reach (compile/reach.py)",
            lambda: reached(before, after, changed(old_r, new_r)),
        )
        shared = Shared()
        new_c = timed(
            f"compile head ({len(nodes)} proxies reached)",
            lambda: compile_proxies(after, nodes, shared=shared),
        )
        old_c = timed(
            f"compile base ({len(nodes)} proxies reached)",
            lambda: compile_proxies(before, nodes, shared=shared),
        )
        changes = timed(
            "diff sources and proxies",
            lambda: diff_revisions(
                sources=(old.resources, new.resources), proxies=(old_c.configs, new_c.configs)
            ),
        )
        timed(
            "step summary + comment markdown",
            lambda: summary.summary(
                list(new.diagnostics), changes, files=len(head.files), resources=len(new.resources)
            ),
        )
    finally:
        os.chdir(cwd)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dataplanes", type=int, default=1000)
    parser.add_argument("--no-phases", action="store_true", help="skip the in-process phases")
    parser.add_argument("--changes", nargs="+", choices=sorted(CHANGES), default=list(CHANGES))
    parser.add_argument(
        "--compile", choices=("reached", "all"), default="reached", help="the action's input"
    )
    args = parser.parse_args()
    rows = []
    for change in args.changes:
        with tempfile.TemporaryDirectory(prefix="bench-action-") as tmp:
            work = Path(tmp)
            origin, event, changed = make_pr(work, args.dataplanes, change)
            files = int(git(origin, "ls-files", "--", "mesh").count("\n")) + 1
            for mode in ("cold", "warm"):
                times, cpus = [], []
                outputs: dict[str, str] = {}
                for i in range(args.runs):
                    cache = work / f"cache-{mode}-{i if mode == 'cold' else 0}"
                    if mode == "warm" and i == 0:
                        one_run(origin, event, work, cache, args.compile)  # fills the cache
                    elapsed, cpu, outputs = one_run(origin, event, work, cache, args.compile)
                    times.append(elapsed)
                    cpus.append(cpu)
                rows.append(
                    f"| {files} | {change} (`{changed}`) | {mode} | {outputs.get('compiled')} | "
                    f"{outputs.get('changed-proxies')} | {statistics.median(times):.2f} s | "
                    f"{statistics.median(cpus):.2f} s |"
                )
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print()
    print(f"Load average at the end: {os.getloadavg()[0]:.1f}")
    print()
    print(
        "| files | one-file PR | per-file cache | compiled proxies | changed proxies "
        "| wall (median) | CPU (median) |"
    )
    print("|---:|---|---|---:|---:|---:|---:|")
    print("\n".join(rows))
    if args.no_phases:
        return
    with tempfile.TemporaryDirectory(prefix="bench-action-") as tmp:
        work = Path(tmp)
        origin, _, changed = make_pr(work, args.dataplanes, "scoped")
        breakdown = phases(origin, work)
    print()
    print(f"Phases of the check step, in-process (scoped PR `{changed}`):")
    print()
    print("| phase | wall | CPU |")
    print("|---|---:|---:|")
    print("\n".join(breakdown))


if __name__ == "__main__":
    main()
