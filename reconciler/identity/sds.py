"""SDS ``Secret`` messages for a proxy: its identity certificate and the mesh CA bundle.

Kuma 2.x serves two secrets per mesh-enabled proxy over ADS:
``identity_cert:secret:<mesh>`` (``tls_certificate``: chain + private key) and
``mesh_ca:secret:<mesh>`` (``validation_context.trusted_ca``). The TLS contexts of listeners
and clusters refer to them by name through :func:`sds_secret_config`. The private key is in
the identity secret only: renders, ``/config`` and status must use :func:`redacted`.
"""

from __future__ import annotations

from envoy.config.core.v3 import base_pb2 as envoy_base
from envoy.config.core.v3 import config_source_pb2 as envoy_config_source
from envoy.extensions.transport_sockets.tls.v3 import common_pb2 as envoy_tls_common
from envoy.extensions.transport_sockets.tls.v3 import secret_pb2 as envoy_secret

from reconciler import names
from reconciler.identity.ca import CertificateAuthority
from reconciler.identity.issuer import IssuedCertificate

REDACTED = b"[redacted]"


def identity_secret(cert: IssuedCertificate) -> envoy_secret.Secret:
    return envoy_secret.Secret(
        name=names.identity_cert_secret(cert.mesh),
        tls_certificate=envoy_tls_common.TlsCertificate(
            certificate_chain=envoy_base.DataSource(inline_bytes=cert.cert_pem),
            private_key=envoy_base.DataSource(inline_bytes=cert.key_pem),
        ),
    )


def mesh_ca_secret(ca: CertificateAuthority) -> envoy_secret.Secret:
    return envoy_secret.Secret(
        name=names.mesh_ca_secret(ca.mesh),
        validation_context=envoy_tls_common.CertificateValidationContext(
            trusted_ca=envoy_base.DataSource(inline_bytes=ca.cert_pem),
        ),
    )


def sds_secret_config(name: str) -> envoy_secret.SdsSecretConfig:
    """A reference to secret ``name``, fetched over the same ADS stream."""
    return envoy_secret.SdsSecretConfig(
        name=name,
        sds_config=envoy_config_source.ConfigSource(
            ads=envoy_config_source.AggregatedConfigSource(),
            resource_api_version=envoy_config_source.ApiVersion.V3,
        ),
    )


def redacted(secret: envoy_secret.Secret) -> envoy_secret.Secret:
    """A copy safe to show: private key bytes replaced by ``[redacted]``."""
    copy = envoy_secret.Secret()
    copy.CopyFrom(secret)
    if copy.HasField("tls_certificate") and copy.tls_certificate.HasField("private_key"):
        copy.tls_certificate.private_key.Clear()
        copy.tls_certificate.private_key.inline_bytes = REDACTED
    return copy
