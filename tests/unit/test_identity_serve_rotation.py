"""The serve wiring: a revision's proxies get SDS secrets, and due certificates are renewed
by rebuilding the same revision, which changes only the SDS version of the renewed proxies."""

from __future__ import annotations

import asyncio
from pathlib import Path

from polling import until

from reconciler.cli.serve import pipeline_compile
from reconciler.identity.provider import IdentityOptions, IdentityProvider
from reconciler.identity.serving import rotate_forever, with_secrets
from reconciler.resource_types import TypeUrl
from reconciler.serve.loop import Reconciler
from reconciler.serve.metrics import Metrics
from reconciler.snapshot import SnapshotCache
from reconciler.source.directory import DirectorySource

MESH = """\
type: Mesh
name: default
mtls:
  enabledBackend: ca-1
  backends:
    - name: ca-1
      type: builtin
      dpCert: { rotation: { expiration: 4s } }
---
type: Dataplane
mesh: default
name: web-01
networking:
  address: 127.0.0.2
  inbound:
    - port: 8080
      tags: { kuma.io/service: web, kuma.io/protocol: http }
"""


def test_due_certificates_are_renewed_by_rebuilding_the_revision(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "mesh.yaml").write_text(MESH)
    provider = IdentityProvider(IdentityOptions(state_dir=tmp_path / "state", pool_target=4))
    cache = SnapshotCache()
    reconciler = Reconciler(
        DirectorySource([repo]),
        with_secrets(pipeline_compile(), provider),
        cache,
        Metrics(),
        interval=None,
    )

    async def body() -> list[dict[TypeUrl, str]]:
        stop = asyncio.Event()
        loop_task = asyncio.create_task(reconciler.run(stop))
        rotation = asyncio.create_task(rotate_forever(provider, reconciler.rebuild, stop))
        seen: list[dict[TypeUrl, str]] = []

        def renewed() -> bool:
            snap = cache.get("default.web-01")
            if snap is not None:
                versions = {t: snap.version(t) for t in TypeUrl}
                if not seen or versions != seen[-1]:
                    seen.append(versions)
            return len(seen) >= 2

        try:
            await until(renewed, 20, "a renewed certificate published", every=0.1)
        finally:
            stop.set()
            await asyncio.gather(loop_task, rotation, return_exceptions=True)
        return seen

    seen = asyncio.run(asyncio.wait_for(body(), 40))
    assert len(seen) >= 2, "the certificate was renewed and pushed"
    first, renewed = seen[0], seen[1]
    assert first[TypeUrl.SECRET] != renewed[TypeUrl.SECRET]
    for other in (TypeUrl.CLUSTER, TypeUrl.LISTENER):
        assert first[other] == renewed[other], other
    assert reconciler.state.last_applied is not None


def test_serve_identity_options(tmp_path: Path) -> None:
    import argparse

    import pytest

    from reconciler.cli.main import build_parser
    from reconciler.cli.serve import ServeOptions, _identity, _mesh_ca

    assert _mesh_ca("default=/ca.crt,/ca.key") == ("default", Path("/ca.crt"), Path("/ca.key"))
    for bad in ("default", "default=/ca.crt", "=a,b"):
        with pytest.raises(argparse.ArgumentTypeError):
            _mesh_ca(bad)
    args = build_parser(["serve"]).parse_args(
        [
            "serve",
            str(tmp_path),
            "--proxy-auth",
            "token",
            "--leaf-key",
            "rsa-2048",
            "--mesh-ca",
            "m1=/a,/b",
            "--mesh-ca",
            "m2=/c,/d",
        ]
    )
    assert args.proxy_auth == "token" and args.leaf_key == "rsa-2048"
    assert [m for m, _, _ in args.mesh_ca] == ["m1", "m2"]
    provider = _identity(
        ServeOptions(path=tmp_path, state_dir=tmp_path, mesh_ca=tuple(args.mesh_ca))
    )
    assert set(provider.options.ca_files) == {"m1", "m2"}


def test_renewal_rebuilds_a_pinned_revision_too(tmp_path: Path) -> None:
    from reconciler.journal import Pin

    reconciler = Reconciler(
        DirectorySource([tmp_path]), pipeline_compile(), SnapshotCache(), Metrics(), interval=None
    )
    reconciler.state.last_attempted = reconciler.state.last_applied = "abc"
    reconciler.holds.pin = Pin("abc", 0.0, "")
    reconciler.rebuild()
    assert reconciler.state.last_attempted is None and reconciler.state.last_applied is None
    assert reconciler._trigger.is_set()
    reconciler.state.last_attempted = reconciler.state.last_applied = "abc"
    reconciler.holds.pin = None
    reconciler.rebuild()
    assert reconciler.state.last_attempted is None and reconciler.state.last_applied == "abc"


def test_a_mesh_ca_that_cannot_be_used_publishes_nothing(tmp_path: Path) -> None:
    """RC590 (a backend type the reconciler cannot run) and RC591 (CA files refused): the
    revision is refused as a compile failure and the message names the identity code."""
    import os
    from datetime import timedelta

    from reconciler.identity.ca import create_ca, key_pem
    from reconciler.identity.provider import CaFiles, utc_now

    provided = tmp_path / "provided"
    provided.mkdir()
    (provided / "mesh.yaml").write_text(
        MESH.replace("type: builtin", "type: provided").replace(
            "dpCert: { rotation: { expiration: 4s } }",
            "conf: {cert: {secret: c}, key: {secret: k}}",
        )
    )
    builtin = tmp_path / "builtin"
    builtin.mkdir()
    (builtin / "mesh.yaml").write_text(MESH)
    ca = create_ca("default", rsa_bits=2048, expiration=timedelta(days=30), now=utc_now())
    cert_file, key_file = tmp_path / "ca.crt", tmp_path / "ca.key"
    cert_file.write_bytes(ca.cert_pem)
    key_file.write_bytes(key_pem(ca.key))
    os.chmod(key_file, 0o644)  # readable by others: refused
    files = {"default": CaFiles(cert_file, key_file)}

    async def body() -> None:
        for repo, ca_files, code in ((provided, {}, "RC590"), (builtin, files, "RC591")):
            options = IdentityOptions(
                state_dir=tmp_path / "state", pool_target=4, ca_files=ca_files
            )
            reconciler = Reconciler(
                DirectorySource([repo]),
                with_secrets(pipeline_compile(), IdentityProvider(options)),
                SnapshotCache(),
                Metrics(),
                interval=None,
            )
            outcome = await reconciler.reconcile()
            assert outcome is not None and not outcome.applied and outcome.error is not None
            assert outcome.error["code"] == "RC606"
            assert f"error[{code}]" in outcome.error["message"], outcome.error

    asyncio.run(asyncio.wait_for(body(), 60))
