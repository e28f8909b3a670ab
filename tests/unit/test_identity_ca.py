from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from reconciler.identity.backend import MtlsBackend, MtlsMode
from reconciler.identity.ca import create_ca, ensure_ca, key_pem, load_ca_files
from reconciler.identity.issuer import identity_uris, issue
from reconciler.identity.keypool import KeyAlgorithm, generate_key
from reconciler.identity.storage import IdentityStorageError

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def backend(mesh: str = "default", bits: int = 2048) -> MtlsBackend:
    return MtlsBackend(
        mesh=mesh,
        name="ca-1",
        mode=MtlsMode.STRICT,
        ca_rsa_bits=bits,
        ca_expiration=timedelta(days=3650),
        dp_cert_expiration=timedelta(days=1),
    )


def test_ca_is_created_once_with_private_files(tmp_path: Path) -> None:
    first = ensure_ca(tmp_path, backend(), now=NOW)
    second = ensure_ca(tmp_path, backend(), now=NOW)
    assert first.fingerprint == second.fingerprint
    directory = tmp_path / "identity" / "meshes" / "default" / "ca-1"
    assert stat.S_IMODE((directory / "ca.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "identity").stat().st_mode) == 0o700
    assert b"PRIVATE KEY" not in (directory / "ca.crt").read_bytes()
    assert not [p for p in directory.iterdir() if p.name.endswith(".tmp")]


def test_ca_follows_kuma_builtin_shape() -> None:
    ca = create_ca("mesh-1", rsa_bits=3072, expiration=timedelta(days=365), now=NOW)
    cert = ca.certificate
    assert isinstance(ca.key, rsa.RSAPrivateKey) and ca.key.key_size == 3072
    assert cert.subject.rfc4514_string() == "CN=mesh-1,OU=Mesh,O=Kuma"
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == ["spiffe://mesh-1"]
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=365, seconds=10)
    assert "PRIVATE" not in repr(ca) and "key=" not in repr(ca)


def test_ca_from_files_shared_by_replicas(tmp_path: Path) -> None:
    ca = create_ca("default", rsa_bits=2048, expiration=timedelta(days=30), now=NOW)
    cert_file, key_file = tmp_path / "ca.crt", tmp_path / "ca.key"
    cert_file.write_bytes(ca.cert_pem)
    key_file.write_bytes(key_pem(ca.key))
    os.chmod(key_file, 0o600)
    assert load_ca_files("default", cert_file, key_file).fingerprint == ca.fingerprint
    os.chmod(key_file, 0o644)
    with pytest.raises(IdentityStorageError, match="chmod 600"):
        load_ca_files("default", cert_file, key_file)


def test_ca_files_must_match_and_be_a_ca(tmp_path: Path) -> None:
    ca = create_ca("default", rsa_bits=2048, expiration=timedelta(days=30), now=NOW)
    other = create_ca("default", rsa_bits=2048, expiration=timedelta(days=30), now=NOW)
    cert_file, key_file = tmp_path / "ca.crt", tmp_path / "ca.key"
    cert_file.write_bytes(ca.cert_pem)
    key_file.write_bytes(key_pem(other.key))
    os.chmod(key_file, 0o600)
    with pytest.raises(IdentityStorageError, match="does not belong"):
        load_ca_files("default", cert_file, key_file)
    leaf_key = generate_key(KeyAlgorithm.ECDSA_P256)
    leaf = issue(
        ca,
        proxy_id="d.x",
        uris=("spiffe://default/x",),
        key=leaf_key,
        lifetime=timedelta(hours=1),
        now=NOW,
    )
    cert_file.write_bytes(leaf.cert_pem)
    key_file.write_bytes(leaf.key_pem)
    with pytest.raises(IdentityStorageError, match="not a CA"):
        load_ca_files("default", cert_file, key_file)
    cert_file.write_bytes(b"garbage")
    with pytest.raises(IdentityStorageError, match="not a PEM"):
        load_ca_files("default", cert_file, key_file)


def test_identity_uris_one_cert_for_every_service() -> None:
    uris = identity_uris(
        "default",
        [
            {"kuma.io/service": "web", "version": "v1"},
            {"kuma.io/service": "admin", "kuma.io/protocol": "http"},
            {"kuma.io/service": "web", "version": "v1"},
        ],
    )
    assert uris == (
        "spiffe://default/admin",
        "spiffe://default/web",
        "kuma://kuma.io/protocol/http",
        "kuma://kuma.io/service/admin",
        "kuma://kuma.io/service/web",
        "kuma://version/v1",
    )


@pytest.mark.parametrize("algorithm", list(KeyAlgorithm))
def test_leaf_is_signed_by_the_ca_with_spiffe_sans(algorithm: KeyAlgorithm) -> None:
    ca = create_ca("default", rsa_bits=2048, expiration=timedelta(days=30), now=NOW)
    uris = ("spiffe://default/web", "kuma://version/v1")
    leaf = issue(
        ca,
        proxy_id="default.web-01",
        uris=uris,
        key=generate_key(algorithm),
        lifetime=timedelta(hours=2),
        now=NOW,
    )
    cert = x509.load_pem_x509_certificate(leaf.cert_pem)
    cert.verify_directly_issued_by(ca.certificate)
    assert cert.subject == x509.Name([])
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert san.critical
    assert tuple(san.value.get_values_for_type(x509.UniformResourceIdentifier)) == uris
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert {o.dotted_string for o in eku} == {"1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"}
    assert cert.not_valid_after_utc == NOW + timedelta(hours=2)
    key = serialization.load_pem_private_key(leaf.key_pem, password=None)
    if algorithm is KeyAlgorithm.ECDSA_P256:
        assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    else:
        assert isinstance(key, rsa.RSAPrivateKey)
    assert "PRIVATE" not in repr(leaf)


def test_leaf_never_outlives_its_ca() -> None:
    ca = create_ca("default", rsa_bits=2048, expiration=timedelta(hours=1), now=NOW)
    leaf = issue(
        ca,
        proxy_id="d.x",
        uris=("spiffe://default/x",),
        key=generate_key(KeyAlgorithm.ECDSA_P256),
        lifetime=timedelta(days=1),
        now=NOW,
    )
    assert leaf.not_after == ca.not_after
