"""The reconcile loop and the HTTP side: a directory source, an injected compile function."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from ads_client import AdsClient
from git_repo import Repo
from harness import run
from polling import until
from proxy_configs import inbound_proxy, outbound_proxy

from reconciler import codes
from reconciler.cli.serve import pipeline_compile
from reconciler.diagnostics import at_resource
from reconciler.errors import CompileError, SourceError
from reconciler.pipeline import Analysis
from reconciler.resource_types import TypeUrl
from reconciler.serve.build import Compiled
from reconciler.serve.loop import Reconciler
from reconciler.serve.metrics import Metrics
from reconciler.serve.server import ControlPlane
from reconciler.snapshot import SnapshotCache
from reconciler.source.choose import open_source
from reconciler.source.directory import DirectorySource

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


def compile_inbounds(analysis: Analysis) -> Compiled:
    """Each Dataplane's first inbound as a listener forwarding to its app."""
    configs = {}
    for res in analysis.resources:
        if res.kind != "Dataplane":
            continue
        net = res.data["networking"]
        inbound = net["inbound"][0]
        node = f"{res.mesh}.{res.name}"
        configs[node] = inbound_proxy(
            node, (net["address"], inbound["port"]), ("127.0.0.1", inbound["servicePort"])
        )
    return Compiled(configs)


async def http_get(port: int, path: str) -> tuple[int, str]:
    def fetch() -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    return await asyncio.to_thread(fetch)


def make_plane(repo: Path) -> ControlPlane:
    cache, metrics = SnapshotCache(), Metrics()
    reconciler = Reconciler(
        DirectorySource([repo]), compile_inbounds, cache, metrics, interval=None
    )
    return ControlPlane(cache=cache, metrics=metrics, reconciler=reconciler)


def test_loop_applies_rejects_and_keeps_serving(tmp_path: Path) -> None:
    (tmp_path / "mesh.yaml").write_text(MESH)
    dataplane = tmp_path / "web.yaml"
    dataplane.write_text(DATAPLANE.format(port=8080))

    async def body() -> None:
        plane = make_plane(tmp_path)
        await plane.start("127.0.0.1:0", "127.0.0.1:0")
        try:
            assert plane.reconciler is not None
            await until(lambda: plane.cache.ready, 5, "the first snapshot")
            status, text = await http_get(plane.http_port, "/readyz")
            assert status == 200
            first = plane.reconciler.state.last_applied
            assert first is not None
            client = AdsClient(f"127.0.0.1:{plane.xds_port}", "default.web-1", delta=True)
            await client.delta_request(TypeUrl.LISTENER)
            lds = await client.recv()
            assert [r.name for r in lds.resources] == ["inbound:127.0.1.2:8080"]
            await client.ack(lds)

            # an invalid revision publishes nothing and says why, with file and line
            dataplane.write_text(DATAPLANE.format(port=99999))
            plane.reconciler.trigger()
            await until(lambda: plane.reconciler.state.last_error is not None, 5, "the rejection")
            _, text = await http_get(plane.http_port, "/status")
            status_json = json.loads(text)
            assert status_json["lastAppliedRevision"] == first
            assert status_json["lastAttemptedRevision"] != first
            error = status_json["lastError"]
            assert error["code"] == "RC605"
            assert any(d["file"].endswith("web.yaml") and d["line"] for d in error["diagnostics"])
            assert await client.nothing()

            # a fixed revision is applied and pushed
            dataplane.write_text(DATAPLANE.format(port=8081))
            plane.reconciler.trigger()
            lds2 = await client.recv()
            assert [r.name for r in lds2.resources] == ["inbound:127.0.1.2:8081"]
            assert list(lds2.removed_resources) == ["inbound:127.0.1.2:8080"]
            status_json = json.loads((await http_get(plane.http_port, "/status"))[1])
            assert status_json["lastError"] is None
            assert status_json["source"]["stale"] is False
            [proxy] = status_json["proxies"]
            assert proxy["id"] == "default.web-1" and proxy["connected"]

            code, text = await http_get(plane.http_port, "/config/default.web-1")
            config = json.loads(text)
            assert code == 200 and config["versions"]["LDS"] == plane.cache.get(
                "default.web-1"
            ).version(TypeUrl.LISTENER)
            assert config["resources"]["listeners"][0]["name"] == "inbound:127.0.1.2:8081"
            code, text = await http_get(plane.http_port, "/config/default.nope")
            assert code == 404 and "default.web-1" in text

            code, metrics = await http_get(plane.http_port, "/metrics")
            assert code == 200
            assert 'reconciler_xds_pushes_total{type="LDS"} 2.0' in metrics
            assert 'reconciler_xds_connected_proxies{protocol="delta"} 1.0' in metrics
            assert "reconciler_compile_duration_seconds_count 3.0" in metrics
            assert (await http_get(plane.http_port, "/healthz"))[0] == 200
            await client.close()
        finally:
            await plane.stop(0)

    run(body)


def test_not_ready_before_a_good_snapshot(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("type: Mesh\nname: [\n")

    async def body() -> None:
        plane = make_plane(tmp_path)
        await plane.start("127.0.0.1:0", "127.0.0.1:0")
        try:
            assert plane.reconciler is not None
            await until(
                lambda: plane.reconciler.state.last_attempted is not None, 5, "a first attempt"
            )
            code, _ = await http_get(plane.http_port, "/readyz")
            assert code == 503
            status = json.loads((await http_get(plane.http_port, "/status"))[1])
            assert status["ready"] is False and status["lastAppliedRevision"] is None
            assert status["lastError"]["diagnostics"][0]["code"] == "RC101"
        finally:
            await plane.stop(0)

    run(body)


class FlakySource:
    """A real directory source that can be made unreachable, as a remote can be."""

    def __init__(self, repo: Path) -> None:
        self.inner = DirectorySource([repo])
        self.down = False

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()

    def fetch(self) -> Any:
        if self.down:
            raise SourceError("connection refused", hint="retried with backoff")
        return self.inner.fetch()

    def read(self, revision_id: str) -> Any:
        return self.inner.read(revision_id)

    def keep(self, revision_ids: set[str]) -> None:
        self.inner.keep(revision_ids)


def test_unreachable_source_keeps_serving_and_reports_stale(tmp_path: Path) -> None:
    (tmp_path / "mesh.yaml").write_text(MESH)
    (tmp_path / "web.yaml").write_text(DATAPLANE.format(port=8080))

    async def body() -> None:
        source = FlakySource(tmp_path)
        cache, metrics = SnapshotCache(), Metrics()
        reconciler = Reconciler(source, compile_inbounds, cache, metrics, interval=None)
        outcome = await reconciler.reconcile()
        assert outcome is not None and outcome.applied
        assert await reconciler.reconcile() is None  # same revision: nothing to do
        source.down = True
        assert await reconciler.reconcile() is None
        status = reconciler.status_json()
        assert status["source"]["stale"] is True
        assert "connection refused" in status["source"]["error"]
        assert status["lastAppliedRevision"] == outcome.revision
        assert cache.get("default.web-1") is not None  # still served
        source.down = False
        await reconciler.reconcile()
        assert reconciler.status_json()["source"]["stale"] is False

    run(body)


def test_a_revision_that_cannot_be_published_says_why(tmp_path: Path) -> None:
    """Valid resources, but compile fails (RC606) or yields a dangling reference (RC602):
    nothing is published, and ``lastError`` names the code."""
    (tmp_path / "mesh.yaml").write_text(MESH)
    (tmp_path / "web.yaml").write_text(DATAPLANE.format(port=8080))

    def failing(analysis: Analysis) -> Compiled:
        raise CompileError("error[RC590] mtls: backend type 'provided' is not supported")

    def error_diagnostic(analysis: Analysis) -> Compiled:
        [dataplane] = [r for r in analysis.resources if r.kind == "Dataplane"]
        problem = at_resource(codes.PROXY_COMPILE_FAILED, dataplane, (), "cannot compile")
        return Compiled({}, (problem,))

    def dangling(analysis: Analysis) -> Compiled:
        route_to_nowhere = outbound_proxy(
            "default.web-1", ("127.0.0.1", 15001), {"missing": 1}, {"backend": []}
        )
        return Compiled({"default.web-1": route_to_nowhere})

    async def body() -> None:
        for compile, code in ((failing, "RC606"), (error_diagnostic, "RC606"), (dangling, "RC602")):
            cache = SnapshotCache()
            loop = Reconciler(DirectorySource([tmp_path]), compile, cache, Metrics(), interval=None)
            outcome = await loop.reconcile()
            assert outcome is not None and not outcome.applied
            assert outcome.error is not None and outcome.error["code"] == code, compile
            assert loop.status_json()["lastError"]["code"] == code
            assert cache.node_ids() == [] and not cache.ready

    run(body)


def test_a_revision_that_empties_the_mesh_is_refused_unless_allowed(tmp_path: Path) -> None:
    """Argo CD's allowEmpty: false. A revision with no resources (a wrong path) or one that
    removes every proxy of a mesh (a moved folder) publishes nothing (RC607); the last
    applied revision keeps serving; ``allow_empty`` publishes it."""
    (tmp_path / "mesh.yaml").write_text(MESH)
    (tmp_path / "web.yaml").write_text(DATAPLANE.format(port=8080))
    empty = tmp_path / "empty"
    empty.mkdir()

    async def body() -> None:
        nothing = Reconciler(
            DirectorySource([empty]), compile_inbounds, SnapshotCache(), Metrics(), interval=None
        )
        outcome = await nothing.reconcile()
        assert outcome is not None and not outcome.applied
        error = nothing.status_json()["lastError"]
        assert error["code"] == codes.REVISION_EMPTY and "no resources" in error["message"]

        cache = SnapshotCache()
        loop = Reconciler(
            DirectorySource([tmp_path]), compile_inbounds, cache, Metrics(), interval=None
        )
        first = await loop.reconcile()
        assert first is not None and first.applied and cache.node_ids() == ["default.web-1"]
        (tmp_path / "web.yaml").unlink()
        second = await loop.reconcile()
        assert second is not None and not second.applied
        error = loop.status_json()["lastError"]
        assert error["code"] == codes.REVISION_EMPTY
        assert "removes every proxy of mesh default (had 1)" in error["message"]
        assert cache.node_ids() == ["default.web-1"], "the last applied revision keeps serving"

        allowed = Reconciler(
            DirectorySource([empty]),
            compile_inbounds,
            cache,
            Metrics(),
            interval=None,
            allow_empty=True,
        )
        loop.builder.allow_empty = True  # as after a restart with --allow-empty
        loop.state.last_attempted = None
        third = await loop.reconcile()
        assert third is not None and third.applied and cache.node_ids() == []
        fourth = await allowed.reconcile()
        assert fourth is not None and fourth.applied

    run(body)


def test_a_missing_branch_at_first_start_says_nothing_is_applied(tmp_path: Path) -> None:
    """Before any revision is applied, a source error says so (not "keeps serving"):
    ``/status`` ``waitingFor`` and ``/readyz`` give the reason; the loop keeps retrying."""
    repo = Repo(tmp_path / "repo")
    repo.commit("mesh", {"mesh.yaml": MESH})
    source = open_source(str(repo.path), state_dir=tmp_path / "state", branch="release")

    async def body() -> None:
        plane = ControlPlane()
        loop = Reconciler(source, compile_inbounds, plane.cache, plane.metrics, interval=None)
        plane.reconciler = loop
        await plane.start("127.0.0.1:0", "127.0.0.1:0")
        try:
            assert await loop.reconcile() is None
            status = loop.status_json()
            assert status["lastAppliedRevision"] is None and status["source"]["stale"]
            assert status["waitingFor"].startswith("source unavailable: ")
            assert "release" in status["waitingFor"]
            code, text = await http_get(plane.http_port, "/readyz")
            assert code == 503 and text.startswith("not ready: no revision applied yet (source")
        finally:
            await plane.stop(0)

    run(body)


def test_a_served_directory_that_disappears_is_a_source_error(tmp_path: Path) -> None:
    """While serving, a vanished directory is a status error, not an unexpected failure."""
    served = tmp_path / "mesh"
    served.mkdir()
    (served / "mesh.yaml").write_text(MESH)
    (served / "web.yaml").write_text(DATAPLANE.format(port=8080))

    async def body() -> None:
        cache = SnapshotCache()
        loop = Reconciler(
            DirectorySource([served]), compile_inbounds, cache, Metrics(), interval=None
        )
        first = await loop.reconcile()
        assert first is not None and first.applied
        for child in served.iterdir():
            child.unlink()
        served.rmdir()
        assert await loop.reconcile() is None
        status = loop.status_json()
        assert status["source"]["stale"] and "path not found" in status["source"]["error"]
        assert status["waitingFor"] is None and cache.node_ids() == ["default.web-1"]

    run(body)


def test_status_lists_the_hostnames_of_the_applied_revision(tmp_path: Path) -> None:
    """HostnameGenerator hostnames (issue: users with their own DNS) are in /status."""
    (tmp_path / "mesh.yaml").write_text(MESH)
    (tmp_path / "web.yaml").write_text(DATAPLANE.format(port=8080))
    (tmp_path / "services.yaml").write_text(
        "type: MeshExternalService\nname: status-page\nmesh: default\nspec:\n"
        "  match: {type: HostnameGenerator, port: 80, protocol: http}\n"
        "  endpoints: [{address: 127.0.1.20, port: 19095}]\n---\n"
        "type: HostnameGenerator\nname: external\nspec:\n"
        "  selector: {meshExternalService: {matchLabels: {kuma.io/origin: zone}}}\n"
        "  template: '{{ .DisplayName }}.extsvc.mesh.local'\n"
    )

    async def body() -> None:
        loop = Reconciler(
            DirectorySource([tmp_path]),
            pipeline_compile(),
            SnapshotCache(),
            Metrics(),
            interval=None,
        )
        outcome = await loop.reconcile()
        assert outcome is not None and outcome.applied
        assert loop.status_json()["hostnames"] == {
            "default": [
                {
                    "kind": "MeshExternalService",
                    "name": "status-page",
                    "hostnames": [
                        {"hostname": "status-page.extsvc.mesh.local", "generator": "external"}
                    ],
                }
            ]
        }

    run(body)


BAD_PATCH = """\
type: MeshProxyPatch
name: zero-timeout
mesh: default
spec:
  targetRef: {kind: Mesh}
  default:
    appendModifications:
      - cluster:
          operation: Patch
          value: "connectTimeout: 0s"
"""


def test_a_mesh_proxy_patch_envoy_would_reject_is_refused_and_named(tmp_path: Path) -> None:
    """Caught before publishing, not by a NACK: the real compile refuses the revision (RC606)
    and ``lastError`` carries RC510 at the modification's file and line; the last applied
    revision keeps serving."""
    (tmp_path / "mesh.yaml").write_text(MESH)
    (tmp_path / "web.yaml").write_text(DATAPLANE.format(port=8080))

    async def body() -> None:
        cache = SnapshotCache()
        loop = Reconciler(
            DirectorySource([tmp_path]), pipeline_compile(), cache, Metrics(), interval=None
        )
        first = await loop.reconcile()
        assert first is not None and first.applied
        (tmp_path / "patch.yaml").write_text(BAD_PATCH)
        outcome = await loop.reconcile()
        assert outcome is not None and not outcome.applied
        error = loop.status_json()["lastError"]
        assert error["code"] == codes.COMPILE_FAILED
        [diagnostic] = error["diagnostics"]
        assert diagnostic["code"] == codes.PROXY_PATCH_INVALID
        assert diagnostic["file"].endswith("patch.yaml") and diagnostic["line"] == 8
        assert "zero-timeout" in diagnostic["text"] and "must be gt 0s" in diagnostic["text"]
        assert cache.node_ids() == ["default.web-1"]  # the first revision keeps serving

    run(body)
