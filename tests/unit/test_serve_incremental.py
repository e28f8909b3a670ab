"""Work proportional to the change: a revision that changes no resource pushes nothing and
builds no snapshot; a one-policy revision rebuilds only the proxies it reaches. Counted
structurally (snapshots serialized, snapshot objects kept, watchers woken), never timed.

Also: a webhook that names the pushed commit is fetched without ``ls-remote``, and what the
loop keeps between revisions holds no compiled proto message (only encoded resources)."""

from __future__ import annotations

import asyncio
import gc
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from git_repo import Repo
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from reconciler.cli.serve import pipeline_compile
from reconciler.compile.compiler import compile_resources
from reconciler.identity.provider import IdentityOptions, IdentityProvider
from reconciler.identity.serving import with_secrets
from reconciler.journal import Journal
from reconciler.resource_types import TypeUrl
from reconciler.serve import build as serve_build
from reconciler.serve.loop import Outcome, Reconciler
from reconciler.serve.metrics import Metrics
from reconciler.snapshot import EncodedResources, SnapshotCache
from reconciler.source.git import GitSource

MESH = """\
type: Mesh
name: default
mtls:
  enabledBackend: ca-1
  backends:
    - name: ca-1
      type: builtin
"""

DATAPLANES = """\
type: Dataplane
mesh: default
name: web-01
networking:
  address: 127.0.0.2
  inbound:
    - port: 8080
      tags: { kuma.io/service: web, kuma.io/protocol: http }
  outbound:
    - port: 10001
      tags: { kuma.io/service: backend }
---
type: Dataplane
mesh: default
name: backend-01
networking:
  address: 127.0.0.3
  inbound:
    - port: 8080
      tags: { kuma.io/service: backend, kuma.io/protocol: http }
---
type: Dataplane
mesh: default
name: db-01
networking:
  address: 127.0.0.4
  inbound:
    - port: 5432
      tags: { kuma.io/service: db, kuma.io/protocol: tcp }
"""

TIMEOUT = """\
type: MeshTimeout
name: web-timeout
mesh: default
spec:
  targetRef:
    kind: Dataplane
    name: web-01
  to:
    - targetRef:
        kind: MeshService
        name: backend
      default:
        http:
          requestTimeout: {value}
"""

NODES = ("default.backend-01", "default.db-01", "default.web-01")


class Fixture:
    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.repo = Repo(tmp_path / "origin")
        self.repo.commit(
            "mesh",
            {
                "README.md": "# mesh\n",
                "mesh/mesh.yaml": MESH,
                "mesh/dataplanes.yaml": DATAPLANES,
                "mesh/timeout.yaml": TIMEOUT.format(value="5s"),
            },
        )
        state = tmp_path / "state"
        self.source = GitSource(self.repo.path.as_uri(), state_dir=state, subpath="mesh")
        self.ls_remote = 0
        real_remote_head = self.source.remote_head

        def counting_remote_head() -> str:
            self.ls_remote += 1
            return real_remote_head()

        monkeypatch.setattr(self.source, "remote_head", counting_remote_head)
        self.built: list[str] = []
        real_build = serve_build.build_snapshots

        def counting_build(configs: Any, interner: Any) -> Any:
            self.built.extend(sorted(configs))
            return real_build(configs, interner)

        monkeypatch.setattr(serve_build, "build_snapshots", counting_build)
        self.provider = IdentityProvider(IdentityOptions(state_dir=state, pool_target=4))
        self.cache = SnapshotCache()
        self.loop = Reconciler(
            self.source,
            with_secrets(pipeline_compile(), self.provider),
            self.cache,
            Metrics(),
            journal=Journal(state),
            interval=None,
        )
        self.woken: list[str] = []
        for node in NODES:
            self.cache.watch(node, lambda node=node: self.woken.append(node))

    def reconcile(self, expected: str | None = None) -> Outcome:
        self.built.clear()
        self.woken.clear()
        self.ls_remote = 0
        if expected is not None:
            self.loop.trigger(expected)
        outcome = asyncio.run(self.loop.reconcile())
        assert outcome is not None and outcome.applied, outcome
        return outcome


@pytest.fixture
def mesh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fixture:
    return Fixture(tmp_path, monkeypatch)


def test_a_revision_that_changes_no_resource_builds_and_pushes_nothing(mesh: Fixture) -> None:
    first = mesh.reconcile()
    assert first.changed == 3 and sorted(mesh.built) == list(NODES)
    snapshots = {node: mesh.cache.get(node) for node in NODES}
    assert all(s is not None and s.get(TypeUrl.SECRET) for s in snapshots.values())

    sha = mesh.repo.commit("docs", {"README.md": "# mesh\n\nmore words\n"})
    outcome = mesh.reconcile()

    assert outcome.revision == sha and mesh.loop.state.last_applied == sha
    assert outcome.changed == 0
    assert mesh.built == [], "no snapshot serialized"
    assert mesh.woken == [], "no stream woken, nothing pushed"
    for node in NODES:
        assert mesh.cache.get(node) is snapshots[node], f"{node} kept its snapshot object"


def test_a_one_policy_revision_rebuilds_only_the_proxies_it_reaches(mesh: Fixture) -> None:
    mesh.reconcile()
    before = {node: mesh.cache.get(node) for node in NODES}
    secrets = before["default.web-01"].get(TypeUrl.SECRET)  # type: ignore[union-attr]

    mesh.repo.commit("timeout", {"mesh/timeout.yaml": TIMEOUT.format(value="7s")})
    outcome = mesh.reconcile()

    assert outcome.changed == 1
    assert mesh.built == ["default.web-01"]
    assert mesh.woken == ["default.web-01"]
    after = mesh.cache.get("default.web-01")
    assert after is not before["default.web-01"]
    assert after is not None and after.get(TypeUrl.SECRET) == secrets, "same certificate"
    for node in ("default.backend-01", "default.db-01"):
        assert mesh.cache.get(node) is before[node]


def test_a_webhook_naming_the_commit_fetches_without_ls_remote(mesh: Fixture) -> None:
    mesh.reconcile()
    assert mesh.ls_remote == 1, "a poll asks the remote where the branch points"

    sha = mesh.repo.commit("timeout", {"mesh/timeout.yaml": TIMEOUT.format(value="9s")})
    outcome = mesh.reconcile(expected=sha)
    assert outcome.revision == sha
    assert mesh.ls_remote == 0
    assert mesh.built == ["default.web-01"]

    # the same commit announced again: nothing fetched, nothing applied
    mesh.ls_remote = 0
    assert asyncio.run(_reconcile_with(mesh.loop, sha)) is None
    assert mesh.ls_remote == 0


def test_an_announced_commit_never_moves_the_served_revision_backwards(mesh: Fixture) -> None:
    older = mesh.repo.commit("timeout", {"mesh/timeout.yaml": TIMEOUT.format(value="6s")})
    newest = mesh.repo.commit("timeout", {"mesh/timeout.yaml": TIMEOUT.format(value="8s")})
    # a late delivery names an older commit: what is applied is what the branch points at
    assert mesh.source.fetch(expected=older).id == newest
    # the all-zero id (a deleted branch) is not a commit: the usual ls-remote path
    mesh.ls_remote = 0
    assert mesh.source.fetch(expected="0" * 40).id == newest
    assert mesh.ls_remote == 1


def test_the_loop_keeps_no_compiled_message_between_revisions(mesh: Fixture) -> None:
    # What is left is per mesh: its CA's secret, compared by identity to notice a new CA.
    mesh.reconcile()
    assert _messages_reachable_from(mesh.loop) == ["Secret"]
    _same_as_a_full_compile(mesh)

    mesh.repo.commit("timeout", {"mesh/timeout.yaml": TIMEOUT.format(value="7s")})
    mesh.reconcile()
    assert mesh.built == ["default.web-01"]
    assert _messages_reachable_from(mesh.loop) == ["Secret"]
    _same_as_a_full_compile(mesh)


def _same_as_a_full_compile(mesh: Fixture) -> None:
    """The kept configs decode to what a one-off compile of the same resources gives."""
    build = mesh.loop.builder.log.current()
    assert build is not None
    expected = compile_resources(build.resources).configs
    assert sorted(build.configs) == sorted(expected) == list(NODES)
    for node, config in build.configs.items():
        assert isinstance(config.resources, EncodedResources)
        assert config.base is not None and isinstance(config.base.resources, EncodedResources)
        for kept in (config, config.base):
            got = {t: [MessageToDict(m) for m in kept.of(t)] for t in expected[node].resources}
            want = {t: [MessageToDict(m) for m in ms] for t, ms in expected[node].resources.items()}
            assert got == want, node
        assert [s.name for s in config.of(TypeUrl.SECRET)] == [
            "identity_cert:secret:default",
            "mesh_ca:secret:default",
        ]


def _messages_reachable_from(root: object) -> list[str]:
    """Type names of the proto messages reachable from ``root`` (module globals excluded)."""
    skip = {id(m.__dict__) for m in list(sys.modules.values()) if m is not None}
    seen: set[int] = set()
    stack, found = [root], []
    while stack:
        obj = stack.pop()
        if id(obj) in seen or id(obj) in skip or isinstance(obj, (types.ModuleType, type)):
            continue
        seen.add(id(obj))
        if isinstance(obj, Message):
            found.append(type(obj).__name__)
            continue
        stack.extend(gc.get_referents(obj))
    return found


async def _reconcile_with(loop: Reconciler, expected: str) -> Outcome | None:
    loop.trigger(expected)
    return await loop.reconcile()
