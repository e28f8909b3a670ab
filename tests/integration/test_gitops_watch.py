"""``serve --watch``: a working tree served as files, re-read after (debounced) changes."""

from __future__ import annotations

from pathlib import Path

from gitops_repo import BACKEND, FRONTEND, MESH, compiler, timeout_policy
from harness import run
from polling import until

from reconciler.journal import Journal
from reconciler.serve.following import Following
from reconciler.serve.loop import Reconciler
from reconciler.serve.server import ControlPlane
from reconciler.source.choose import open_source
from reconciler.source.directory import DirectorySource


def test_watch_rescans_the_tree_after_an_edit(tmp_path: Path) -> None:
    tree = tmp_path / "work"
    (tree / ".git").mkdir(parents=True)  # a repository's work tree: --watch serves files
    for name, text in {
        "mesh.yaml": MESH,
        "frontend.yaml": FRONTEND,
        "backend.yaml": BACKEND,
        "timeout.yaml": timeout_policy("5s"),
    }.items():
        (tree / name).write_text(text)
    state = tmp_path / "state"
    source = open_source(str(tree), state_dir=state, watch=True)
    assert isinstance(source, DirectorySource)

    async def body() -> None:
        plane = ControlPlane()
        loop = Reconciler(
            source, compiler(), plane.cache, plane.metrics, journal=Journal(state), interval=3600
        )
        plane.reconciler = loop
        following = Following(loop, watch_root=tree)
        following.install(plane)
        await plane.start("127.0.0.1:0", "127.0.0.1:0")
        try:
            first = await until(lambda: loop.state.last_applied, 10, "the tree applied")
            # git's bookkeeping is no resource (the watcher ignores .git, tests/unit/test_watch.py)
            (tree / ".git" / "index").write_text("git's own bookkeeping")
            (tree / "timeout.yaml").write_text(timeout_policy("2s"))
            await until(lambda: loop.state.last_applied != first, 10, "the edit applied")
            assert Journal(state).last() is not None
        finally:
            await plane.stop(0)
            following.close()

    run(body)
