"""Versions are a pure function of the served content, across processes and replicas.

The sample repository (builtin mTLS, every policy kind) is served by real ``reconciler
serve`` processes:

* three starts on the same commit and state directory serve every proxy the same version of
  every type (SDS included: the state dir keeps the certificates);
* two replicas sharing ``--mesh-ca`` and ``--token-key``, one that served c1 then c2 and one
  started fresh on c2, serve the same version of every type to every proxy except SDS (each
  replica issues its own leaf certificates; the CA secret is the same), while ``/status``
  traces each version to the commit that introduced it as far as that replica knows;
* a State-of-the-World proxy that fails over from one to the other with the versions it
  holds is sent its SDS secrets and nothing else.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ads_client import AdsClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from git_repo import Repo
from harness import run
from polling import wait_for
from serve_process import Server

from reconciler.identity.ca import create_ca, key_pem
from reconciler.identity.tokens import load_signer
from reconciler.resource_types import TypeUrl

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

SAMPLE = Path(__file__).resolve().parents[2] / "sample-repo"
TYPES = ("CDS", "EDS", "LDS", "RDS", "SDS")
GROUPS = {"CDS": "clusters", "EDS": "endpoints", "LDS": "listeners", "RDS": "routes"}
"""The types whose content does not depend on the replica (``/config`` resource groups)."""
FRONTEND = "default.frontend-1"
FIRST_CALLS = [TypeUrl.CLUSTER, TypeUrl.ENDPOINT, TypeUrl.LISTENER, TypeUrl.ROUTE]


def sample_repo(path: Path) -> tuple[Repo, str]:
    repo = Repo(path)
    shutil.copytree(SAMPLE, path / "mesh")
    return repo, repo.commit("the sample mesh")


def canary_50_50(repo: Repo) -> str:
    routes = repo.path / "mesh" / "policies" / "routes.yaml"
    text, count = re.subn(r"weight: 90\b", "weight: 50", routes.read_text())
    assert count == 1
    text = re.sub(r"weight: 10\b", "weight: 50", text)
    return repo.commit("canary 50/50", {"mesh/policies/routes.yaml": text})


def versions(server: Server) -> dict[str, dict[str, str]]:
    return {node: config["versions"] for node, config in server.served().items()}


def test_three_starts_on_one_commit_serve_the_same_versions(tmp_path: Path) -> None:
    repo, sha = sample_repo(tmp_path / "origin")
    state = tmp_path / "state"
    seen = []
    for start in range(3):
        server = Server(repo.path, state, tmp_path / f"serve-{start}.log")
        try:
            wait_for(lambda s=server: s.applied(sha), 60, f"start {start} applies the commit")
            seen.append(versions(server))
        finally:
            server.stop()
    assert len(seen[0]) == 8
    assert all(set(types) == set(TYPES) for types in seen[0].values())
    assert seen[1] == seen[0]
    assert seen[2] == seen[0]


@pytest.fixture
def shared_identity(tmp_path: Path) -> tuple[list[str], Path]:
    """``--mesh-ca`` and ``--token-key`` files both replicas are given."""
    ca = create_ca("default", rsa_bits=2048, expiration=timedelta(days=30), now=datetime.now(UTC))
    cert, key = tmp_path / "ca.crt", tmp_path / "ca.key"
    cert.write_bytes(ca.cert_pem)
    key.write_bytes(key_pem(ca.key))
    key.chmod(0o600)
    token_key = tmp_path / "token.key"
    token_key.write_bytes(
        ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    token_key.chmod(0o600)
    args = ["--path", "mesh", "--mesh-ca", f"default={cert},{key}", "--token-key", str(token_key)]
    return args, token_key


def test_a_fresh_replica_serves_the_versions_of_one_with_history(
    tmp_path: Path, shared_identity: tuple[list[str], Path]
) -> None:
    args, token_key = shared_identity
    repo, c1 = sample_repo(tmp_path / "origin")
    servers: list[Server] = []
    try:
        history = Server(repo.path, tmp_path / "state-history", tmp_path / "history.log", args)
        servers.append(history)
        wait_for(lambda: history.applied(c1), 60, "the replica with history applies c1")
        before = versions(history)
        c2 = canary_50_50(repo)
        history.process.send_signal(signal.SIGHUP)  # poll now
        wait_for(lambda: history.applied(c2), 60, "the replica with history applies c2")
        fresh = Server(repo.path, tmp_path / "state-fresh", tmp_path / "fresh.log", args)
        servers.append(fresh)
        wait_for(lambda: fresh.applied(c2), 60, "the fresh replica applies c2")

        old, new = history.served(), fresh.served()
        assert sorted(old) == sorted(new) and len(old) == 8
        for node in old:
            for short, group in GROUPS.items():
                assert old[node]["versions"][short] == new[node]["versions"][short], (node, short)
                assert old[node]["resources"][group] == new[node]["resources"][group]
            # SDS: the same mesh CA, but each replica issued its own leaf certificate
            old_secrets = {s["name"]: s for s in old[node]["resources"]["secrets"]}
            new_secrets = {s["name"]: s for s in new[node]["resources"]["secrets"]}
            ca_secret = "mesh_ca:secret:default"
            assert old_secrets[ca_secret] == new_secrets[ca_secret]
            identity = "identity_cert:secret:default"
            assert old_secrets[identity] != new_secrets[identity]
        # only the frontend's routes changed from c1 to c2
        after = versions(history)
        changed = {(n, t) for n in after for t in TYPES if after[n][t] != before[n][t]}
        assert changed == {(FRONTEND, "RDS")}

        # beside the version, /status traces it to the commit that introduced it, as far as
        # each replica knows: the fresh one saw only c2
        traced = {p["id"]: p["served"] for p in history.status()["proxies"]}
        assert traced[FRONTEND]["RDS"]["commit"] == c2
        assert traced[FRONTEND]["LDS"]["commit"] == c1
        for proxy in fresh.status()["proxies"]:
            assert {"CDS", "LDS", "SDS"} <= set(proxy["served"])
            assert {v["commit"] for v in proxy["served"].values()} == {c2}

        failover(history, fresh, token_key)
    finally:
        for server in servers:
            server.stop()


def failover(first: Server, second: Server, token_key: Path) -> None:
    """A SotW proxy ACKs everything from ``first``, then reconnects to ``second`` with the
    versions it holds: ``second`` sends the SDS secrets (its own certificate) and nothing
    else."""
    signer = load_signer(token_key)
    token, _ = signer.issue(FRONTEND, ttl=timedelta(minutes=10), now=datetime.now(UTC))
    # clusters and listeners are wildcard subscriptions; "*" asks for every resource of the
    # others (SotW versions do not depend on the names subscribed)
    names = {t: [] if t in (TypeUrl.CLUSTER, TypeUrl.LISTENER) else ["*"] for t in TypeUrl}

    async def body() -> None:
        held = await connect(first, token, names)
        assert sorted(held) == sorted(names)
        pushes_before = {
            t: second.metric(f'reconciler_xds_pushes_total{{type="{t}"}}') for t in TYPES
        }

        client = AdsClient(f"127.0.0.1:{second.xds_port}", FRONTEND, token=token)
        try:
            for type_url in FIRST_CALLS:  # what Envoy sends on reconnect: the versions it has
                await client.request(type_url, names[type_url], version=held[type_url])
            # SDS last: its version differs (a certificate of the other replica), so its
            # response arrives after anything the server would have sent for the others
            await client.request(
                TypeUrl.SECRET, names[TypeUrl.SECRET], version=held[TypeUrl.SECRET]
            )
            response = await client.recv(timeout=20)
            assert response.type_url == str(TypeUrl.SECRET)
            assert response.version_info != held[TypeUrl.SECRET]
            await client.ack(response, names[TypeUrl.SECRET])

            def settled() -> bool:
                proxy = next(p for p in second.status()["proxies"] if p["id"] == FRONTEND)
                # a type appears in "versions" once the server has finished writing its
                # response, which the client may have read already
                return all(
                    proxy["versions"].get(t.short, {}).get("acked")
                    == proxy["served"][t.short]["version"]
                    for t in (*FIRST_CALLS, TypeUrl.SECRET)
                )

            await asyncio.to_thread(wait_for, settled, 20, "the second replica to record the ACKs")
            pushes = {t: second.metric(f'reconciler_xds_pushes_total{{type="{t}"}}') for t in TYPES}
            assert {t: pushes[t] - pushes_before[t] for t in TYPES} == {
                "CDS": 0,
                "EDS": 0,
                "LDS": 0,
                "RDS": 0,
                "SDS": 1,
            }
        finally:
            await client.close()

    run(body, timeout=60)


async def connect(
    server: Server, token: str, names: dict[TypeUrl, list[str]]
) -> dict[TypeUrl, str]:
    """Envoy's SotW start-up against ``server``: every type requested, every response ACKed;
    the version held of each type."""
    client = AdsClient(f"127.0.0.1:{server.xds_port}", FRONTEND, token=token)
    held: dict[TypeUrl, str] = {}
    try:
        for type_url in (
            TypeUrl.CLUSTER,
            TypeUrl.ENDPOINT,
            TypeUrl.SECRET,
            TypeUrl.LISTENER,
            TypeUrl.ROUTE,
        ):
            await client.request(type_url, names[type_url])
        while len(held) < len(names):
            response: Any = await client.recv(timeout=20)
            type_url = TypeUrl(response.type_url)
            assert type_url not in held, f"{type_url.short} sent twice"
            held[type_url] = response.version_info
            await client.ack(response, names[type_url])
    finally:
        await client.close()
    return held
