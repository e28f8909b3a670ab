from __future__ import annotations

import base64
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from google.protobuf.json_format import MessageToDict

from reconciler.identity.ca import create_ca
from reconciler.identity.issuer import issue
from reconciler.identity.keypool import KeyAlgorithm, generate_key
from reconciler.identity.sds import identity_secret, mesh_ca_secret, sds_secret_config
from reconciler.resource_types import ProxyConfig, TypeUrl
from reconciler.snapshot import Interner, build_snapshot

GOLDEN = Path(__file__).parents[1] / "golden" / "identity" / "sds-secrets.golden.yaml"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _placeholders(node: Any, names: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {k: _placeholders(v, names) for k, v in node.items()}
    if isinstance(node, list):
        return [_placeholders(v, names) for v in node]
    return names.get(node, node) if isinstance(node, str) else node


def test_sds_secrets_match_golden() -> None:
    ca = create_ca("mesh-1", rsa_bits=2048, expiration=timedelta(days=30), now=NOW)
    leaf = issue(
        ca,
        proxy_id="mesh-1.web-01",
        uris=("spiffe://mesh-1/web",),
        key=generate_key(KeyAlgorithm.ECDSA_P256),
        lifetime=timedelta(hours=1),
        now=NOW,
    )
    b64 = {
        base64.b64encode(ca.cert_pem).decode(): "<mesh CA certificate PEM>",
        base64.b64encode(leaf.cert_pem).decode(): "<proxy certificate PEM>",
        base64.b64encode(leaf.key_pem).decode(): "<proxy private key PEM>",
    }
    rendered = {
        "secrets": [
            MessageToDict(m, preserving_proto_field_name=True)
            for m in (identity_secret(leaf), mesh_ca_secret(ca))
        ],
        "sds_secret_config": MessageToDict(
            sds_secret_config("identity_cert:secret:mesh-1"), preserving_proto_field_name=True
        ),
    }
    text = yaml.safe_dump(_placeholders(rendered, b64), sort_keys=True)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()


def test_served_secrets_are_shown_without_the_private_key_only() -> None:
    """``/config`` (``Snapshot.to_json``) hides the private key, nothing else."""
    ca = create_ca("m", rsa_bits=2048, expiration=timedelta(days=30), now=NOW)
    leaf = issue(
        ca,
        proxy_id="m.a",
        uris=("spiffe://m/a",),
        key=generate_key(KeyAlgorithm.ECDSA_P256),
        lifetime=timedelta(hours=1),
        now=NOW,
    )
    secret, ca_secret = identity_secret(leaf), mesh_ca_secret(ca)
    config = ProxyConfig("m.a", {TypeUrl.SECRET: [secret, ca_secret]})
    shown = build_snapshot(config, Interner()).to_json()["resources"][TypeUrl.SECRET.group]
    assert b"PRIVATE KEY" in secret.tls_certificate.private_key.inline_bytes
    assert "PRIVATE KEY" not in str(shown)
    by_name = {s["name"]: s for s in shown}
    identity = by_name[secret.name]["tls_certificate"]  # proto field names, as `render` prints
    assert identity["private_key"] == {"inline_string": "[redacted]"}
    chain = base64.b64decode(identity["certificate_chain"]["inline_bytes"])
    assert chain == secret.tls_certificate.certificate_chain.inline_bytes
    assert by_name[ca_secret.name] == MessageToDict(ca_secret, preserving_proto_field_name=True)


def test_identity_modules_import_on_their_own() -> None:
    """No import cycle between identity and compile, whichever is imported first."""
    import subprocess
    import sys

    for module in (
        "reconciler.identity.serving",
        "reconciler.identity.sds",
        "reconciler.compile.mtls",
        "reconciler.cli.serve",
        "reconciler.cli.token",
    ):
        done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True)
        assert done.returncode == 0, done.stderr.decode()[-600:]


def test_identity_imports_no_server_and_no_cli() -> None:
    import ast

    package = Path(__file__).parents[2] / "reconciler" / "identity"
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(("reconciler.serve", "reconciler.cli")), path
