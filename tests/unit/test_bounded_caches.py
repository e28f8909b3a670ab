"""What a long-running server keeps across commits stays bounded: 40 one-policy commits.

The server keeps a compiler (its content-keyed caches of listeners, routes and clusters),
the interner of encoded resources, and the cache of SotW
response bodies. Each commit below changes one MeshTimeout value, so each builds new
resources; after a warm-up, every one of these holds no more than it did then (sizes are
counted, nothing is timed).
"""

from __future__ import annotations

import gc
import importlib.util
from pathlib import Path
from typing import Any

from reconciler.compile.compiler import Compiler
from reconciler.compile.shared import KEEP_RUNS
from reconciler.pipeline import analyze_paths
from reconciler.resource_types import PUSH_ORDER
from reconciler.snapshot import ResponseCache, Snapshot, SnapshotCache, build_snapshots

ROOT = Path(__file__).resolve().parents[2]
COMMITS = 40

POLICY = """\
type: MeshTimeout
name: bench-timeout
mesh: default
spec:
  targetRef:
    kind: Mesh
  to:
    - targetRef:
        kind: MeshService
        name: svc-000
      default:
        http:
          requestTimeout: {value}ms
"""


def _generate(root: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "generate_mesh", ROOT / "bench" / "generate_mesh.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.generate(root, dataplanes=40, services=10, policies=22)


def test_caches_are_flat_after_warm_up(tmp_path: Path) -> None:
    _generate(tmp_path)
    policy = tmp_path / "policies" / "bench-timeout.yaml"
    compiler = Compiler()
    cache = SnapshotCache()
    cache.responses = ResponseCache(max_bytes=64 * 1024)
    built: dict[str, tuple[Any, Snapshot]] = {}
    sizes: list[dict[str, int]] = []
    changed_per_commit: list[int] = []
    for commit in range(COMMITS):
        policy.write_text(POLICY.format(value=100 + commit))
        analysis = analyze_paths([tmp_path])
        assert analysis.ok
        result = compiler.compile(analysis.resources)
        # as the server does: only configs that are new objects are serialized again
        fresh = {n: c for n, c in result.configs.items() if built.get(n, (None,))[0] is not c}
        snapshots, problems = build_snapshots(fresh, cache.interner)
        assert not problems
        built = {
            n: (c, snapshots[n] if n in snapshots else built[n][1])
            for n, c in result.configs.items()
        }
        changed_per_commit.append(len(cache.publish({n: s for n, (_, s) in built.items()}).changed))
        for node in sorted(built):  # every proxy's stream asks for every type
            snap = built[node][1]
            for type_url in PUSH_ORDER:
                found = snap.get(type_url)
                if found is not None:
                    cache.responses.sotw_body(type_url, found, None)
        gc.collect()
        shared = compiler.shared
        sizes.append(
            {
                "listeners": len(shared.listeners.entries),
                "routes": len(shared.routes.entries),
                "clusters": len(shared.clusters.entries),
                "encoded resources": len(cache.interner),
                "response bytes": cache.responses.held_bytes,
            }
        )
    assert all(changed > 0 for changed in changed_per_commit[1:]), changed_per_commit
    warm_up = KEEP_RUNS + 2
    for name in sizes[0]:
        series = [s[name] for s in sizes]
        assert max(series[warm_up:]) <= max(series[:warm_up]), (name, series)
    assert cache.responses.held_bytes <= 64 * 1024
    # the commits did build new resources: without the bounds these would have grown
    assert sizes[-1]["clusters"] > 0 and sizes[-1]["encoded resources"] > 0
