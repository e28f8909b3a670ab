"""The GitOps loop end to end in-process: commits in a real repository -> snapshots -> ADS.

Transactional commits, status with the failing SHA and diagnostics, versions traced to
commits, the webhook trigger, rollback/resume, restart recovery, an unreachable remote.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import aiohttp
from ads_client import AdsClient
from gitops_repo import BACKEND, Repo, serving, timeout_policy
from harness import acked, run
from polling import until

from reconciler.journal import Journal
from reconciler.resource_types import TypeUrl
from reconciler.serve.following import Following
from reconciler.serve.webhook import signature

FRONTEND = "default.frontend-1"
BACKEND_NODE = "default.backend-1"
CDS, EDS, LDS, RDS = TypeUrl.CLUSTER, TypeUrl.ENDPOINT, TypeUrl.LISTENER, TypeUrl.ROUTE


def test_valid_invalid_fixed(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "origin")
    first = repo.initial()

    async def body() -> None:
        async with serving(repo.path, tmp_path / "state") as (plane, loop):
            outcome = await loop.reconcile()
            assert outcome is not None and outcome.applied
            assert set(plane.cache.node_ids()) == {FRONTEND, BACKEND_NODE}
            before = plane.cache.get(FRONTEND)
            assert before is not None
            assert loop.introduced_by(before.version(LDS)) == first

            bad = repo.commit("typo", {"mesh/timeout.yaml": timeout_policy("1s", "requestTimout")})
            outcome = await loop.reconcile()
            assert outcome is not None and not outcome.applied
            assert plane.cache.get(FRONTEND) is before  # nothing published
            status = plane.status_json()
            assert status["lastAttemptedRevision"] == bad
            assert status["lastAppliedRevision"] == first
            diags = status["lastError"]["diagnostics"]
            # named from the repository root, as for `diff --repo --path` and CI annotations
            assert diags and all(d["file"] == "mesh/timeout.yaml" and d["line"] for d in diags)
            assert any("requestTimout" in d["text"] for d in diags)

            assert await loop.reconcile() is None  # the same bad commit is not retried

            fixed = repo.commit("fix", {"mesh/timeout.yaml": timeout_policy("1s")})
            outcome = await loop.reconcile()
            assert outcome is not None and outcome.applied
            status = plane.status_json()
            assert status["lastAppliedRevision"] == status["lastAttemptedRevision"] == fixed
            assert status["lastError"] is None
            after = plane.cache.get(FRONTEND)
            assert after is not None and after is not before
            changed = {t for t in (CDS, EDS, LDS, RDS) if after.version(t) != before.version(t)}
            assert changed and all(loop.introduced_by(after.version(t)) == fixed for t in changed)
            unchanged = {CDS, EDS, LDS, RDS} - changed
            assert unchanged and all(
                loop.introduced_by(after.version(t)) == first for t in unchanged
            )
            # the backend's configuration did not change: same snapshot, same versions
            assert [e.proxies for e in loop.journal.entries()][-1] == (FRONTEND,)

    run(body)


def test_commit_that_changes_no_proxy_pushes_nothing(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "origin")
    repo.initial()

    async def body() -> None:
        async with serving(repo.path, tmp_path / "state") as (plane, loop):
            await loop.reconcile()
            client = AdsClient(f"127.0.0.1:{plane.xds_port}", BACKEND_NODE)
            await client.request(CDS)
            cds = await client.recv()
            await client.ack(cds)
            readme = repo.commit("docs only", {"README.md": "nothing a proxy sees\n"})
            outcome = await loop.reconcile()
            assert outcome is not None and outcome.applied and outcome.changed == 0
            assert plane.status_json()["lastAppliedRevision"] == readme
            assert await client.nothing(0.5)
            await client.close()

    run(body)


def test_proxy_receives_commit_version_and_acks(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "origin")
    first = repo.initial()

    async def body() -> None:
        async with serving(repo.path, tmp_path / "state") as (plane, loop):
            await loop.reconcile()
            client = AdsClient(f"127.0.0.1:{plane.xds_port}", FRONTEND)
            await client.request(LDS)
            lds = await client.recv()
            await client.ack(lds)
            sha = repo.commit("new listener port", {"mesh/frontend.yaml": _moved_outbound()})
            await loop.reconcile()
            pushed = await client.recv()
            assert pushed.type_url == str(LDS)
            assert pushed.version_info == plane.cache.get(FRONTEND).version(LDS)  # type: ignore[union-attr]
            assert sha[:8] not in pushed.version_info  # a content hash: no commit inside
            await client.ack(pushed)
            await acked(plane, FRONTEND)
            [proxy] = [p for p in plane.status_json()["proxies"] if p["id"] == FRONTEND]
            assert proxy["versions"]["LDS"]["acked"] == pushed.version_info
            assert proxy["versions"]["LDS"]["ackedCommit"] == sha
            assert proxy["served"]["LDS"] == {"version": pushed.version_info, "commit": sha}
            assert proxy["served"]["CDS"]["commit"] == first
            assert "CDS" not in proxy["versions"]  # served, never requested by this client
            await client.close()

    run(body)


def _moved_outbound() -> str:
    from gitops_repo import FRONTEND as TEXT

    return TEXT.replace("port: 10001", "port: 10009")


def test_webhook_triggers_a_poll(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "origin")
    repo.initial()
    secret = b"webhook secret"

    async def body() -> None:
        async with serving(
            repo.path, tmp_path / "state", interval=3600, start_loop=True, secret=secret
        ) as (plane, loop):
            await until(lambda: loop.state.last_applied is not None, 10, "the first commit applied")
            sha = repo.commit("faster", {"mesh/timeout.yaml": timeout_policy("2s")})
            payload = json.dumps({"ref": "refs/heads/main", "after": sha}).encode()
            url = f"http://127.0.0.1:{plane.http_port}/hooks/github"
            headers = {"X-GitHub-Event": "push", "X-GitHub-Delivery": "d-1"}
            async with aiohttp.ClientSession() as http:
                bad = {**headers, "X-Hub-Signature-256": signature(payload, b"wrong")}
                async with http.post(url, data=payload, headers=bad) as resp:
                    assert resp.status == 401
                # an unsigned hook is answered before anything is scheduled: no poll
                metrics = plane.metrics.render().decode()
                assert 'reconciler_webhook_requests_total{outcome="unauthorized"} 1.0' in metrics
                assert 'outcome="accepted"' not in metrics
                assert loop.state.last_applied != sha
                good = {**headers, "X-Hub-Signature-256": signature(payload, secret)}
                async with http.post(url, data=payload, headers=good) as resp:
                    assert resp.status == 202
                await until(lambda: loop.state.last_applied == sha, 10, "the pushed commit applied")
                async with http.post(url, data=payload, headers=good) as resp:
                    assert resp.status == 200  # replayed delivery
                async with http.get(f"http://127.0.0.1:{plane.http_port}/metrics") as resp:
                    text = await resp.text()
            assert 'reconciler_webhook_requests_total{outcome="accepted"} 1.0' in text
            assert 'reconciler_webhook_requests_total{outcome="unauthorized"} 1.0' in text
            assert "reconciler_source_last_success_timestamp_seconds " in text

    run(body)


def test_rollback_pins_and_resume_follows_again(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "origin")
    first = repo.initial()
    state = tmp_path / "state"

    async def body() -> None:
        async with serving(repo.path, state) as (plane, loop):
            await loop.reconcile()
            v1 = plane.cache.get(FRONTEND).version(RDS)  # type: ignore[union-attr]
            second = repo.commit("faster", {"mesh/timeout.yaml": timeout_policy("2s")})
            await loop.reconcile()
            assert loop.state.last_applied == second
            assert [e.sha for e in Journal(state).entries()] == [first, second]

            Journal(state).set_pin(first, "bad deploy")
            await loop.reconcile()
            status = plane.status_json()
            assert status["lastAppliedRevision"] == first
            assert status["following"] is False and status["pinned"]["sha"] == first
            # same content as before: the same version as the first time
            assert plane.cache.get(FRONTEND).version(RDS) == v1  # type: ignore[union-attr]

            third = repo.commit("more", {"mesh/timeout.yaml": timeout_policy("3s")})
            assert await loop.reconcile() is None  # pinned: the branch is not followed
            assert loop.state.last_applied == first

            assert Journal(state).clear_pin()
            await loop.reconcile()
            status = plane.status_json()
            assert status["lastAppliedRevision"] == third and status["following"] is True

    run(body)


def test_restart_serves_the_last_applied_revision_with_the_remote_gone(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "origin")
    repo.initial()
    state = tmp_path / "state"

    async def first_run() -> tuple[str, str]:
        async with serving(repo.path, state) as (plane, loop):
            await loop.reconcile()
            sha = repo.commit("faster", {"mesh/timeout.yaml": timeout_policy("2s")})
            await loop.reconcile()
            return sha, plane.cache.get(FRONTEND).version(RDS)  # type: ignore[union-attr]

    sha, version = run(first_run)
    shutil.rmtree(repo.path)

    async def second_run() -> None:
        async with serving(repo.path, state) as (plane, loop):
            outcome = await loop.restore()
            assert outcome is not None and outcome.applied
            assert plane.cache.ready
            assert plane.cache.get(FRONTEND).version(RDS) == version  # type: ignore[union-attr]
            assert await loop.reconcile() is None
            status = plane.status_json()
            assert status["lastAppliedRevision"] == sha
            assert status["restoredRevision"] == sha
            assert status["source"]["stale"] is True
            assert status["source"]["reason"] == "unreachable"
            assert status["source"]["code"] == "RC652"
            assert 'reconciler_source_errors_total{reason="unreachable"} 1.0' in (
                plane.metrics.render().decode()
            )

    run(second_run)


def test_deleted_branch_keeps_serving(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "origin")
    first = repo.initial()

    async def body() -> None:
        async with serving(repo.path, tmp_path / "state") as (plane, loop):
            await loop.reconcile()
            repo.git("checkout", "-q", "-b", "other")
            repo.git("branch", "-q", "-D", "main")
            assert await loop.reconcile() is None
            status = plane.status_json()
            assert status["lastAppliedRevision"] == first
            assert status["source"]["reason"] == "branch-deleted"
            assert plane.cache.get(BACKEND_NODE) is not None
            repo.git("checkout", "-q", "-b", "main")
            again = repo.commit("branch is back", {"mesh/backend.yaml": BACKEND + "\n"})
            await loop.reconcile()
            assert plane.status_json()["lastAppliedRevision"] == again
            assert plane.status_json()["source"]["stale"] is False

    run(body)


def test_drift_lists_proxies_that_have_not_acked_the_current_snapshot(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "origin")
    repo.initial()

    async def body() -> None:
        async with serving(repo.path, tmp_path / "state") as (plane, loop):
            Following(loop).install(plane)
            await loop.reconcile()
            client = AdsClient(f"127.0.0.1:{plane.xds_port}", FRONTEND)
            await client.request(LDS)
            lds = await client.recv()
            await until(lambda: plane.status_json()["drift"], 10, "drift listed")
            [entry] = plane.status_json()["drift"]
            assert entry["id"] == FRONTEND
            assert entry["types"]["LDS"] == {"acked": "", "current": lds.version_info}
            assert "reconciler_proxies_drifted 1.0" in plane.metrics.render().decode()
            await client.ack(lds)
            await until(lambda: not plane.status_json()["drift"], 10, "drift cleared")
            assert "reconciler_proxies_drifted 0.0" in plane.metrics.render().decode()
            await client.close()

    run(body)
