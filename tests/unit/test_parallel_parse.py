"""A large cold `validate` parses files in worker processes: the results, diagnostics and
their positions are exactly those of parsing everything in one process, bad input included
(the loader's negative cases and every kind's negative cases among valid files)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler import pipeline
from reconciler.load import discover, read_files

ROOT = Path(__file__).resolve().parents[2]

DATAPLANE = """\
type: Dataplane
mesh: default
name: dp-{n:04d}
networking:
  address: 10.0.{hi}.{lo}
  inbound:
    - port: 8080
      tags: {{ kuma.io/service: svc-{svc}, kuma.io/protocol: http }}
"""
"""A flow mapping: parsed by libyaml."""

BLOCK_DATAPLANE = """\
type: Dataplane
mesh: default
name: dp-{n:04d}
networking:
  address: 10.0.{hi}.{lo}
  inbound:
    - port: 8080
      tags:
        kuma.io/service: svc-{svc}
        kuma.io/protocol: http
"""
"""Plain YAML: the fast path (``yaml-rs``)."""


def _corpus(root: Path) -> int:
    """Negative cases of the loader and of every kind, then valid Dataplanes (of both parsing
    paths) up to enough files for the parallel path."""
    shutil.copy(ROOT / "tests" / "cases" / "_mesh.yaml", root / "mesh.yaml")
    cases = sorted((ROOT / "tests" / "cases" / "_loader" / "negative").glob("*.yaml"))
    cases += sorted((ROOT / "reconciler" / "kinds").glob("*/cases/negative/*.yaml"))
    for i, case in enumerate(cases):
        shutil.copy(case, root / f"case-{i:03d}-{case.name}")
    for n in range(max(0, PARALLEL_FROM + 100 - len(cases))):
        (root / "dataplanes").mkdir(exist_ok=True)
        template = BLOCK_DATAPLANE if n % 2 else DATAPLANE
        (root / "dataplanes" / f"dp-{n:04d}.yaml").write_text(
            template.format(n=n, hi=n // 250, lo=n % 250 + 1, svc=n % 7)
        )
    return len(cases)


PARALLEL_FROM = 500
"""The threshold for these tests (the real one is larger): the comparison needs the path."""


def _view(analysis: pipeline.Analysis) -> tuple[object, ...]:
    resources = tuple(
        (r.kind, r.name, r.mesh, r.data, r.file, r.doc_index, r.position, r.locator(("spec",)))
        for r in analysis.resources
    )
    diagnostics = tuple(d.format_text() for d in analysis.diagnostics)
    return analysis.files, resources, diagnostics, analysis.diagnostics


def test_workers_give_the_same_analysis_as_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not pipeline._can_fork():
        # an earlier test left a thread in this process (gRPC's poller lives as long as the
        # process), and the parse never forks a process with threads: run it in a fresh one
        name = f"{__file__}::test_workers_give_the_same_analysis_as_one_process"
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", name],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
        assert "1 passed" in run.stdout, run.stdout[-2000:]
        return
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_FILES", PARALLEL_FROM)
    root = tmp_path / "repo"
    root.mkdir()
    cases = _corpus(root)
    assert cases > 50

    files, _ = read_files(discover([root]))
    shares = pipeline._parse_in_parallel(files, None, 2)
    # the parallel path ran: every file has a result, but an undecodable one (not-utf8)
    # that a worker hands back to be parsed, and reported, by the caller
    assert len(files) - 1 <= len(shares) <= len(files)

    alone = pipeline.analyze_paths([root], workers=1)
    spread = pipeline.analyze_paths([root], workers=2)
    assert any(d.severity.value == "error" for d in alone.diagnostics)
    assert _view(spread) == _view(alone)

    # analyze() of files in memory (the Action's two revisions) parses with workers too
    assert _view(pipeline.analyze(files)) == _view(alone)

    cached = pipeline.analyze_paths([root], workers=2, cache_dir=tmp_path / "cache")
    again = pipeline.analyze_paths([root], workers=2, cache_dir=tmp_path / "cache")
    assert _view(cached) == _view(alone) == _view(again)


@pytest.mark.parametrize(
    ("usable", "load", "free"), [(2, 0.1, 2), (2, 0.6, 1), (2, 3.0, 1), (4, 1.2, 3), (1, 0.0, 1)]
)
def test_workers_only_on_free_cpus(
    monkeypatch: pytest.MonkeyPatch, usable: int, load: float, free: int
) -> None:
    """By default one parsing process per CPU the load average leaves free."""
    monkeypatch.setattr(pipeline.os, "getloadavg", lambda: (load, load, load))
    assert pipeline._free_cpus(usable) == free
