"""Per-proxy certificates: one per Dataplane, with a SPIFFE URI SAN for each of its services.

As Kuma's ``NewWorkloadCert``: empty subject (so the SAN extension is critical), URI SANs
``spiffe://<mesh>/<service>`` for every ``kuma.io/service`` of the proxy's inbounds, then
``kuma://<tag>/<value>`` for every inbound tag (what ``MeshSubset`` permissions match on),
key usages for TLS client and server, valid from ten seconds ago for the backend's
``dpCert.rotation.expiration``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from reconciler.identity.ca import CLOCK_SKEW, CertificateAuthority, random_serial
from reconciler.identity.keypool import LeafKey
from reconciler.identity.spiffe import kuma_tag_uri, spiffe_id

SERVICE_TAG = "kuma.io/service"


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    """A proxy's certificate and key. The key is never in ``repr``, status or renders."""

    proxy_id: str
    mesh: str
    uris: tuple[str, ...]
    serial: int
    not_before: datetime
    not_after: datetime
    issued_at: datetime
    """When it was issued (``not_before`` is ten seconds earlier, for clock skew)."""
    ca_fingerprint: str
    cert_pem: bytes = field(repr=False)
    key_pem: bytes = field(repr=False)

    def renew_at(self, fraction: float) -> datetime:
        """The moment ``fraction`` of the lifetime (from issuance to expiry) has passed."""
        return self.issued_at + (self.not_after - self.issued_at) * fraction


def identity_uris(mesh: str, tags: Iterable[Mapping[str, str]]) -> tuple[str, ...]:
    """The SANs of a proxy whose inbounds carry ``tags``: SPIFFE ids first, then Kuma tags,
    each sorted and unique, so equal inputs give equal certificates."""
    services: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    for inbound in tags:
        for key, value in inbound.items():
            if key == SERVICE_TAG:
                services.add(value)
            pairs.add((key, value))
    return tuple(spiffe_id(mesh, s) for s in sorted(services)) + tuple(
        kuma_tag_uri(key, value) for key, value in sorted(pairs)
    )


def issue(
    ca: CertificateAuthority,
    *,
    proxy_id: str,
    uris: tuple[str, ...],
    key: LeafKey,
    lifetime: timedelta,
    now: datetime,
) -> IssuedCertificate:
    not_before = now - CLOCK_SKEW
    not_after = min(now + lifetime, ca.not_after)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(random_serial())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(u) for u in uris]),
            critical=True,
        )
    )
    certificate = builder.sign(ca.key, hashes.SHA256())
    return IssuedCertificate(
        proxy_id=proxy_id,
        mesh=ca.mesh,
        uris=uris,
        serial=certificate.serial_number,
        not_before=not_before,
        not_after=not_after,
        issued_at=now,
        ca_fingerprint=ca.fingerprint,
        cert_pem=certificate.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
