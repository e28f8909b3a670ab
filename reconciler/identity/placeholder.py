"""Throwaway identity material for renders and ``envoy --mode validate``.

A render has no state dir and must not touch the real CA, yet Envoy only accepts a static
bootstrap whose secrets hold real PEM. One CA per mesh per process, made on first use, signs
certificates for the SANs asked; nothing is written anywhere.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

from envoy.extensions.transport_sockets.tls.v3 import secret_pb2 as envoy_secret

from reconciler.identity.ca import CertificateAuthority, create_ca
from reconciler.identity.issuer import issue
from reconciler.identity.keypool import KeyAlgorithm, generate_key
from reconciler.identity.sds import identity_secret, mesh_ca_secret


@functools.lru_cache(maxsize=64)
def _ca(mesh: str) -> CertificateAuthority:
    return create_ca(mesh, rsa_bits=2048, expiration=timedelta(days=1), now=datetime.now(UTC))


def placeholder_secrets(mesh: str, proxy_id: str) -> list[envoy_secret.Secret]:
    ca = _ca(mesh)
    cert = issue(
        ca,
        proxy_id=proxy_id,
        uris=(f"spiffe://{mesh}/placeholder",),
        key=generate_key(KeyAlgorithm.ECDSA_P256),
        lifetime=timedelta(hours=1),
        now=datetime.now(UTC),
    )
    return [identity_secret(cert), mesh_ca_secret(ca)]
