"""Proxy tokens on ADS streams, and SDS secrets per proxy, against the in-process server."""

from __future__ import annotations

import asyncio
import base64
import json
import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc
from envoy.extensions.transport_sockets.tls.v3 import secret_pb2 as envoy_secret
from envoy.service.discovery.v3 import ads_pb2_grpc
from envoy.service.discovery.v3 import discovery_pb2 as envoy_discovery
from polling import until

from reconciler.compile.compiler import compile_resources
from reconciler.identity.provider import IdentityOptions, IdentityProvider, utc_now
from reconciler.identity.serving import attach_secrets, make_verifier, proxy_identities
from reconciler.identity.tokens import load_or_create_signer
from reconciler.load import SourceFile
from reconciler.pipeline import analyze
from reconciler.resource_types import TypeUrl
from reconciler.serve.server import ControlPlane
from reconciler.snapshot import build_snapshots

MESH = """
type: Mesh
name: default
mtls: { enabledBackend: ca-1, backends: [ { name: ca-1, type: builtin } ] }
---
type: Dataplane
mesh: default
name: web-01
networking:
  address: 127.0.0.2
  inbound:
    - port: 8080
      tags: { kuma.io/service: web, kuma.io/protocol: http }
---
type: Dataplane
mesh: default
name: db-01
networking:
  address: 127.0.0.3
  inbound:
    - port: 5432
      tags: { kuma.io/service: db }
"""
SECRETS = ["identity_cert:secret:default", "mesh_ca:secret:default"]


async def first_response(port: int, node: str, token: str | None, *, delta: bool) -> Any:
    metadata = (("authorization", f"Bearer {token}"),) if token else None
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = ads_pb2_grpc.AggregatedDiscoveryServiceStub(channel)
        if delta:
            call = stub.DeltaAggregatedResources(metadata=metadata)
            request: Any = envoy_discovery.DeltaDiscoveryRequest(
                type_url=str(TypeUrl.SECRET), resource_names_subscribe=SECRETS
            )
        else:
            call = stub.StreamAggregatedResources(metadata=metadata)
            request = envoy_discovery.DiscoveryRequest(
                type_url=str(TypeUrl.SECRET), resource_names=SECRETS
            )
        request.node.id = node
        await call.write(request)
        try:
            return await asyncio.wait_for(call.read(), 10)
        except grpc.aio.AioRpcError as exc:
            return exc


def test_streams_need_their_own_token_and_then_get_sds(tmp_path: Path) -> None:
    analysis = analyze([SourceFile("mesh.yaml", textwrap.dedent(MESH).encode())])
    assert analysis.ok, [d.format_text() for d in analysis.diagnostics]
    resources = list(analysis.resources)
    provider = IdentityProvider(IdentityOptions(state_dir=tmp_path, pool_target=4))
    configs = attach_secrets(
        compile_resources(resources).configs, proxy_identities(resources), provider
    )
    signer = load_or_create_signer(tmp_path)
    web_token, _ = signer.issue("default.web-01", ttl=timedelta(hours=1), now=utc_now())

    async def body() -> None:
        plane = ControlPlane(verifier=make_verifier(tmp_path, None))
        await plane.start("127.0.0.1:0", None)
        try:
            snapshots, problems = build_snapshots(configs, plane.cache.interner)
            assert not problems
            plane.cache.publish(snapshots)
            for delta in (False, True):
                missing = await first_response(plane.xds_port, "default.web-01", None, delta=delta)
                assert isinstance(missing, grpc.aio.AioRpcError)
                assert missing.code() == grpc.StatusCode.UNAUTHENTICATED
                assert "RC620" in (missing.details() or "")
                stolen = await first_response(
                    plane.xds_port, "default.db-01", web_token, delta=delta
                )
                assert isinstance(stolen, grpc.aio.AioRpcError)
                assert "belongs to default.web-01" in (stolen.details() or "")
                ok = await first_response(plane.xds_port, "default.web-01", web_token, delta=delta)
                assert not isinstance(ok, grpc.aio.AioRpcError), ok
                names = []
                for any_msg in ok.resources:
                    secret = envoy_secret.Secret()
                    (any_msg.resource if delta else any_msg).Unpack(secret)
                    names.append(secret.name)
                assert sorted(names) == SECRETS
            [identity] = [
                m
                for m in configs["default.web-01"].of(TypeUrl.SECRET)
                if m.HasField("tls_certificate")
            ]
            key = base64.b64encode(identity.tls_certificate.private_key.inline_bytes).decode()
            shown = json.dumps(plane.cache.get("default.web-01").to_json())
            assert "identity_cert:secret:default" in shown and key not in shown
            assert "[redacted]" in shown and key not in json.dumps(plane.status_json())
            assert '"private_key": {"inline_string": "[redacted]"}' in shown  # proto names
            status = {p["id"]: p for p in plane.status_json()["proxies"]}
            assert status["default.db-01"]["authError"]["problem"] == "wrong-proxy"
            assert status["default.web-01"]["authError"] is None
        finally:
            await plane.stop(0)

    asyncio.run(asyncio.wait_for(body(), 60))


def test_open_streams_end_when_their_token_is_revoked_or_expires(
    tmp_path: Path, monkeypatch: Any
) -> None:
    import reconciler.serve.stream as stream_module
    from reconciler.identity.revocation import RevocationList

    monkeypatch.setattr(stream_module, "TOKEN_RECHECK", 0.2)
    analysis = analyze([SourceFile("mesh.yaml", textwrap.dedent(MESH).encode())])
    resources = list(analysis.resources)
    provider = IdentityProvider(IdentityOptions(state_dir=tmp_path, pool_target=4))
    configs = attach_secrets(
        compile_resources(resources).configs, proxy_identities(resources), provider
    )
    signer = load_or_create_signer(tmp_path)
    long_token, claims = signer.issue("default.web-01", ttl=timedelta(hours=1), now=utc_now())
    short_token, _ = signer.issue("default.db-01", ttl=timedelta(seconds=3), now=utc_now())

    async def until_closed(port: int, node: str, token: str, then: Any = None) -> Any:
        metadata = (("authorization", f"Bearer {token}"),)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            call = ads_pb2_grpc.AggregatedDiscoveryServiceStub(channel).StreamAggregatedResources(
                metadata=metadata
            )
            request = envoy_discovery.DiscoveryRequest(
                type_url=str(TypeUrl.SECRET), resource_names=SECRETS
            )
            request.node.id = node
            await call.write(request)
            first = await asyncio.wait_for(call.read(), 10)
            assert first.resources, "served while the token is valid"
            if then is not None:
                then()
            try:
                while True:
                    await asyncio.wait_for(call.read(), 10)
            except grpc.aio.AioRpcError as exc:
                return exc

    async def body() -> None:
        plane = ControlPlane(verifier=make_verifier(tmp_path, None))
        await plane.start("127.0.0.1:0", None)
        try:
            snapshots, _ = build_snapshots(configs, plane.cache.interner)
            plane.cache.publish(snapshots)
            revoke = lambda: RevocationList.in_state_dir(tmp_path).revoke_token(  # noqa: E731
                claims.token_id, claims.expires_at, now=int(utc_now().timestamp())
            )
            revoked = await until_closed(plane.xds_port, "default.web-01", long_token, revoke)
            assert revoked.code() == grpc.StatusCode.UNAUTHENTICATED
            assert "was revoked" in (revoked.details() or "")
            expired = await until_closed(plane.xds_port, "default.db-01", short_token)
            assert "expired" in (expired.details() or "")
            status = {p["id"]: p for p in plane.status_json()["proxies"]}
            assert status["default.web-01"]["authError"]["problem"] == "revoked"
            assert status["default.db-01"]["authError"]["problem"] == "expired"
        finally:
            await plane.stop(0)

    asyncio.run(asyncio.wait_for(body(), 60))


PLAIN = """
---
type: Mesh
name: plain
---
type: Dataplane
mesh: plain
name: app-01
networking:
  address: 127.0.0.4
  inbound:
    - port: 8080
      tags: { kuma.io/service: app, kuma.io/protocol: http }
"""


def test_auto_mode_requires_tokens_only_where_private_keys_are_served(tmp_path: Path) -> None:
    analysis = analyze([SourceFile("mesh.yaml", (textwrap.dedent(MESH) + PLAIN).encode())])
    assert analysis.ok, [d.format_text() for d in analysis.diagnostics]
    resources = list(analysis.resources)
    provider = IdentityProvider(IdentityOptions(state_dir=tmp_path, pool_target=4))
    compiled = compile_resources(resources).configs

    async def open_stream(port: int, node: str, type_url: TypeUrl) -> Any:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        call = ads_pb2_grpc.AggregatedDiscoveryServiceStub(channel).StreamAggregatedResources()
        request = envoy_discovery.DiscoveryRequest(type_url=str(type_url))
        request.node.id = node
        await call.write(request)
        return channel, call

    async def body() -> None:
        plane = ControlPlane(verifier=make_verifier(tmp_path, None, required=provider.is_protected))
        await plane.start("127.0.0.1:0", None)
        try:
            # Before the first revision nobody is protected: a token-less stream is admitted...
            early_channel, early = await open_stream(
                plane.xds_port, "default.web-01", TypeUrl.CLUSTER
            )
            await until(
                lambda: (s := plane.registry.find("default.web-01")) is not None and s.streams,
                10,
                "the token-less stream admitted",
            )
            configs = attach_secrets(compiled, proxy_identities(resources), provider)
            snapshots, _ = build_snapshots(configs, plane.cache.interner)
            plane.cache.publish(snapshots)
            # ... and refused once the revision gives it a private key, before anything is sent.
            try:
                response = await asyncio.wait_for(early.read(), 10)
            except grpc.aio.AioRpcError as exc:
                response = exc
            assert isinstance(response, grpc.aio.AioRpcError), "nothing served without a token"
            assert "now receives mesh identity" in (response.details() or "")
            await early_channel.close()
            plain_channel, plain = await open_stream(
                plane.xds_port, "plain.app-01", TypeUrl.CLUSTER
            )
            got = await asyncio.wait_for(plain.read(), 10)
            assert got.resources, "a proxy without mesh identity needs no token in auto mode"
            await plain_channel.close()
            refused = await first_response(plane.xds_port, "default.db-01", None, delta=True)
            assert isinstance(refused, grpc.aio.AioRpcError)
        finally:
            await plane.stop(0)

    asyncio.run(asyncio.wait_for(body(), 60))
