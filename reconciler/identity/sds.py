"""SDS ``Secret`` messages for a proxy: its identity certificate and the mesh CA bundle.

Kuma 2.x serves two secrets per mesh-enabled proxy over ADS:
``identity_cert:secret:<mesh>`` (``tls_certificate``: chain + private key) and
``mesh_ca:secret:<mesh>`` (``validation_context.trusted_ca``). The TLS contexts of listeners
and clusters refer to them by name through :func:`sds_secret_config`. The private key is in
the identity secret only; ``/config`` shows secrets without it (``Snapshot.to_json``).
"""

from __future__ import annotations

from envoy.config.core.v3 import base_pb2 as envoy_base
from envoy.config.core.v3 import config_source_pb2 as envoy_config_source
from envoy.extensions.transport_sockets.tls.v3 import common_pb2 as envoy_tls_common
from envoy.extensions.transport_sockets.tls.v3 import secret_pb2 as envoy_secret

from reconciler import names
from reconciler.identity.ca import CertificateAuthority
from reconciler.identity.issuer import IssuedCertificate


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
