"""The builtin certificate authority of a mesh: created once, stored, or loaded from files.

Like Kuma's builtin CA: an RSA key of ``caCert.RSAbits`` bits, a self-signed certificate with
subject ``O=Kuma, OU=Mesh, CN=<mesh>`` and the URI SAN ``spiffe://<mesh>``, valid from ten
seconds ago (clock skew) for ``caCert.expiration``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from reconciler.identity import storage
from reconciler.identity.backend import MtlsBackend
from reconciler.identity.storage import IdentityStorageError

CLOCK_SKEW = timedelta(seconds=10)

CaKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True, slots=True)
class CertificateAuthority:
    """A CA certificate and its key. The key never appears in ``repr`` or in any output."""

    mesh: str
    certificate: x509.Certificate
    cert_pem: bytes = field(repr=False)
    key: CaKey = field(repr=False)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the DER certificate, hex: identifies the CA in status and logs."""
        return hashlib.sha256(self.certificate.public_bytes(serialization.Encoding.DER)).hexdigest()

    @property
    def not_after(self) -> datetime:
        return self.certificate.not_valid_after_utc


def random_serial() -> int:
    """A positive serial number of at most 128 bits (CA/Browser Forum ballot 164)."""
    return secrets.randbits(127) + 1


def create_ca(
    mesh: str, *, rsa_bits: int, expiration: timedelta, now: datetime
) -> CertificateAuthority:
    key = rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Kuma"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Mesh"),
            x509.NameAttribute(NameOID.COMMON_NAME, mesh),
        ]
    )
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(random_serial())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + expiration)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(f"spiffe://{mesh}")]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertificateAuthority(
        mesh=mesh,
        certificate=certificate,
        cert_pem=certificate.public_bytes(serialization.Encoding.PEM),
        key=key,
    )


def ca_from_pem(mesh: str, cert_pem: bytes, key_pem: bytes, *, source: str) -> CertificateAuthority:
    """Parse and check a CA pair: a CA certificate whose public key matches the key."""
    try:
        certificate = x509.load_pem_x509_certificate(cert_pem)
        key = serialization.load_pem_private_key(key_pem, password=None)
    except ValueError as exc:
        raise IdentityStorageError(f"{source}: not a PEM certificate and key ({exc})") from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise IdentityStorageError(f"{source}: the CA key must be RSA or ECDSA")
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        raise IdentityStorageError(
            f"{source}: the certificate is not a CA (basicConstraints CA:TRUE)"
        )
    if _spki(key.public_key()) != _spki(certificate.public_key()):
        raise IdentityStorageError(f"{source}: the key does not belong to the certificate")
    cert_only = certificate.public_bytes(serialization.Encoding.PEM)
    return CertificateAuthority(mesh=mesh, certificate=certificate, cert_pem=cert_only, key=key)


def _spki(public: object) -> bytes:
    if not isinstance(public, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        return b""
    return public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_pem(key: CaKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def ca_dir(state_dir: Path, backend: MtlsBackend) -> Path:
    return storage.identity_dir(state_dir) / "meshes" / backend.mesh / backend.name


def ensure_ca(state_dir: Path, backend: MtlsBackend, *, now: datetime) -> CertificateAuthority:
    """The mesh's CA from the state dir, created (once, even across processes) if absent."""
    directory = ca_dir(state_dir, backend)
    bundle = directory / "ca.pem"
    if not bundle.exists():
        ca = create_ca(
            backend.mesh, rsa_bits=backend.ca_rsa_bits, expiration=backend.ca_expiration, now=now
        )
        if storage.create_once(bundle, key_pem(ca.key) + ca.cert_pem, private=True):
            storage.write_atomic(directory / "ca.crt", ca.cert_pem, private=False)
            return ca
    data = storage.read_private(bundle)
    return ca_from_pem(backend.mesh, data, data, source=str(bundle))


def load_ca_files(mesh: str, cert_file: Path, key_file: Path) -> CertificateAuthority:
    """A CA given on the command line (several replicas sharing one CA)."""
    return ca_from_pem(
        mesh,
        storage.read_public(cert_file),
        storage.read_private(key_file),
        source=f"{cert_file} + {key_file}",
    )
