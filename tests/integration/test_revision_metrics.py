"""The applied revision's series, scraped while a git source is followed: the info metric
names the applied commit (only it), the age counts from its committer time, and every
applied revision records its generation and apply durations."""

from __future__ import annotations

import time
from pathlib import Path

from git_repo import GIT_ENV, Repo
from harness import run
from scrape import scrape

from reconciler.cli.serve import pipeline_compile
from reconciler.serve.loop import Reconciler
from reconciler.serve.server import ControlPlane
from reconciler.source.choose import open_source

MESH = "type: Mesh\nname: default\n"
DATAPLANE = """\
type: Dataplane
mesh: default
name: web-1
networking:
  address: 127.0.1.2
  inbound:
    - port: {port}
      servicePort: 18080
      tags:
        kuma.io/service: web
        kuma.io/protocol: http
"""
HOUR = 3600


def commit_at(repo: Repo, committed: int, files: dict[str, str | None]) -> str:
    """A commit authored a day before ``committed`` (a rebase keeps the author's date)."""
    repo.env = {
        **GIT_ENV,
        "GIT_AUTHOR_DATE": f"@{committed - 24 * HOUR} +0000",
        "GIT_COMMITTER_DATE": f"@{committed} +0000",
    }
    return repo.commit("change", files)


def test_info_names_the_applied_revision_and_age_counts_from_its_commit(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    now = int(time.time())
    first = commit_at(
        repo, now - 2 * HOUR, {"mesh.yaml": MESH, "web.yaml": DATAPLANE.format(port=8080)}
    )
    source = open_source(str(repo.path), state_dir=tmp_path / "state", branch="main")

    async def body() -> None:
        plane = ControlPlane()
        loop = Reconciler(source, pipeline_compile(), plane.cache, plane.metrics, interval=None)
        await plane.start("127.0.0.1:0", "127.0.0.1:0")
        try:
            before = await scrape(plane.http_port)
            assert not list(before.matching("reconciler_revision_info"))
            outcome = await loop.reconcile()
            assert outcome is not None and outcome.applied
            metrics = await scrape(plane.http_port)
            assert [labels for labels, _ in metrics.matching("reconciler_revision_info")] == [
                {"revision": first}
            ]
            assert metrics.value("reconciler_revision_info", revision=first) == 1.0
            age = metrics.value("reconciler_revision_age_seconds")
            assert age is not None and 2 * HOUR <= age < 2 * HOUR + 120
            generation = metrics.value("reconciler_revision_last_generation_seconds")
            assert generation is not None and generation > 0.0
            assert metrics.value("reconciler_revision_apply_duration_seconds_count") == 1.0
            assert metrics.value("reconciler_compile_duration_seconds_count") == 1.0

            second = commit_at(repo, now - HOUR, {"web.yaml": DATAPLANE.format(port=8081)})
            outcome = await loop.reconcile()
            assert outcome is not None and outcome.applied and outcome.revision == second
            metrics = await scrape(plane.http_port)
            assert [labels for labels, _ in metrics.matching("reconciler_revision_info")] == [
                {"revision": second}
            ]
            age = metrics.value("reconciler_revision_age_seconds")
            assert age is not None and HOUR <= age < HOUR + 120
            assert metrics.value("reconciler_revision_apply_duration_seconds_count") == 2.0
            last_apply = metrics.value("reconciler_revision_last_apply_seconds")
            apply_sum = metrics.value("reconciler_revision_apply_duration_seconds_sum")
            assert last_apply is not None and apply_sum is not None
            assert 0.0 < last_apply <= apply_sum

            # a refused revision changes neither the info nor the applied durations
            commit_at(repo, now, {"web.yaml": "type: Dataplane\nmesh: default\nname: [\n"})
            outcome = await loop.reconcile()
            assert outcome is not None and not outcome.applied
            metrics = await scrape(plane.http_port)
            assert [labels for labels, _ in metrics.matching("reconciler_revision_info")] == [
                {"revision": second}
            ]
            assert metrics.value("reconciler_revision_apply_duration_seconds_count") == 2.0
            assert metrics.value("reconciler_compile_duration_seconds_count") == 3.0
            assert metrics.value("reconciler_reconciles_total", result="rejected") == 1.0
        finally:
            await plane.stop(0)

    run(body, timeout=60)
