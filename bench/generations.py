"""Memory over mesh-wide commits: does the server keep past generations of every proxy?

    .venv/bin/python bench/generations.py [--dataplanes 1000] [--policies 1820] [--commits 8]

The repository is ``bench/generate_mesh.py``'s mesh (builtin mTLS) plus the mesh-wide
MeshTrace of ``bench/scale.py``, committed to a local git repository. The reconcile loop runs
in this process as ``reconciler serve`` builds it (``bench/revision.py``'s ``Server``: the
kept compiler, secrets, the snapshot cache, the console's build log; no streams). Each commit
edits the MeshTrace's sampling, so every proxy's listeners change: nothing of the previous
revision's per-proxy configuration can be shared. Printed after the cold start and after each
commit: RSS and the number of objects the garbage collector tracks. A server that keeps only
what it serves (plus a bounded history) is flat after a commit or two.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import os
import platform
import sys
import tempfile
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
sys.path.insert(0, str(ROOT))


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


revision = _load("revision")
scale = _load("scale")
gitops = scale.gitops


def tracked() -> int:
    """Objects the collector tracks, frozen ones included (``serve`` freezes each build's)."""
    return len(gc.get_objects()) + gc.get_freeze_count()


async def run(args: argparse.Namespace, work: Path) -> list[str]:
    repo = work / "repo"
    mesh = repo / "mesh"
    gitops.generator()(mesh, dataplanes=args.dataplanes, services=200, policies=args.policies)
    trace = mesh / "policies" / "meshtrace" / "bench-trace.yaml"
    trace.parent.mkdir(parents=True, exist_ok=True)
    trace.write_text(scale.TRACE_POLICY)
    gitops.git(repo, "init", "-q", "-b", "main")
    gitops.git(repo, "add", "-A")
    gitops.git(repo, "commit", "-q", "-m", "mesh")
    server = revision.Server(repo, work / "state")
    edit = scale.Edit(repo, trace, r"overall: (\d+)")
    rows = []
    try:
        await server.revision()
        gc.collect()
        rows.append(("cold start", revision.rss_mb(), tracked()))
        for i in range(args.commits):
            await server.revision(edit.commit())
            gc.collect()
            rows.append((f"mesh-wide commit {i + 1}", revision.rss_mb(), tracked()))
    finally:
        server.provider.stop()
    return [
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; {args.dataplanes} Dataplanes, builtin mTLS.",
        "",
        "| after | RSS (MB) | objects tracked |",
        "|---|---:|---:|",
        *(f"| {name} | {rss:.1f} | {objects:,} |" for name, rss, objects in rows),
        "",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataplanes", type=int, default=1000)
    parser.add_argument("--policies", type=int, default=1820)
    parser.add_argument("--commits", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-generations-") as tmp:
        print("\n".join(asyncio.run(run(args, Path(tmp)))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
