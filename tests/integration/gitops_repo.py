"""A small mesh in a real git repository, and an in-process GitOps server that follows it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from git_repo import Repo as _Repo

from reconciler.compile.compiler import Compiler
from reconciler.journal import Journal
from reconciler.pipeline import Analysis
from reconciler.serve.build import Compiled, CompileFn
from reconciler.serve.following import webhook_route
from reconciler.serve.loop import Reconciler
from reconciler.serve.server import ControlPlane
from reconciler.source.git import GitSource

MESH = "type: Mesh\nname: default\n"
FRONTEND = """\
type: Dataplane
mesh: default
name: frontend-1
networking:
  address: 127.0.1.1
  inbound:
    - port: 8080
      servicePort: 18080
      tags:
        kuma.io/service: frontend
        kuma.io/protocol: http
  outbound:
    - port: 10001
      tags:
        kuma.io/service: backend
"""
BACKEND = """\
type: Dataplane
mesh: default
name: backend-1
networking:
  address: 127.0.1.2
  inbound:
    - port: 8080
      servicePort: 18081
      tags:
        kuma.io/service: backend
        kuma.io/protocol: http
"""


def timeout_policy(request_timeout: str, field: str = "requestTimeout") -> str:
    return f"""\
type: MeshTimeout
name: backend-timeout
mesh: default
spec:
  targetRef:
    kind: Mesh
  to:
    - targetRef:
        kind: MeshService
        name: backend
      default:
        http:
          {field}: {request_timeout}
"""


class Repo(_Repo):
    """A work-tree repository on branch ``main`` with the mesh under ``mesh/``."""

    def initial(self) -> str:
        return self.commit(
            "a mesh with two proxies",
            {
                "mesh/mesh.yaml": MESH,
                "mesh/frontend.yaml": FRONTEND,
                "mesh/backend.yaml": BACKEND,
                "mesh/timeout.yaml": timeout_policy("5s"),
            },
        )


def compiler() -> CompileFn:
    compiler = Compiler()

    def compile(analysis: Analysis) -> Compiled:
        return Compiled(compiler.compile(analysis.resources).configs)

    return compile


@asynccontextmanager
async def serving(
    repo: Path | str,
    state: Path,
    *,
    interval: float | None = None,
    start_loop: bool = False,
    secret: bytes | None = None,
) -> AsyncIterator[tuple[ControlPlane, Reconciler]]:
    """A control plane on ephemeral ports following ``repo``'s main branch under ``mesh``.

    Without ``start_loop`` nothing polls on its own: tests call ``reconcile()``.
    """
    plane = ControlPlane()
    source = GitSource(str(repo), state_dir=state, branch="main", subpath="mesh")
    loop = Reconciler(
        source, compiler(), plane.cache, plane.metrics, journal=Journal(state), interval=interval
    )
    if secret is not None:
        plane.http_hooks.append(webhook_route(loop, secret, branch="main"))
    if start_loop:
        plane.reconciler = loop
    await plane.start("127.0.0.1:0", "127.0.0.1:0")
    plane.reconciler = loop  # status even when tests drive the loop
    try:
        yield plane, loop
    finally:
        await plane.stop(0)
