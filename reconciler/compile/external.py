"""MeshExternalService: the cluster a sidecar uses to reach a destination outside the mesh.

Kuma 2.14 sends this traffic through a ZoneEgress (and requires mesh mTLS for it); this
control plane has no zone proxies, so the sidecar connects to the endpoints directly, with or
without mesh mTLS. The cluster follows what Kuma's ZoneEgress builds for the same resource
(``ProvidedCustomEndpointCluster`` + ``ClientSideTLS`` / ``UpstreamTlsContextOutsideMesh``):

* endpoints inline: ``STRICT_DNS`` when one of ``spec.endpoints`` is a hostname, ``STATIC``
  otherwise; ``priority`` becomes the locality priority;
* ``match.protocol`` ``http`` -> HTTP/1.1 upstream, ``http2`` / ``grpc`` -> HTTP/2;
* ``tls.enabled``: an ``UpstreamTlsContext`` with ``sni`` = ``verification.serverName``, else
  the first hostname endpoint; ``verification.mode`` ``Secured`` (default: CA and names),
  ``SkipSAN`` (CA only), ``SkipCA`` / ``SkipAll`` (no verification); names checked are
  ``subjectAltNames`` (DNS, Exact or Prefix) or else the server name; the CA is ``caCert``
  or else the system's CA bundle file (:data:`SYSTEM_CA_FILE`, as Kuma's ``systemCaPath``);
  ``clientCert`` + ``clientKey``; ``version.min/max``;
  ``allowRenegotiation``.
* Data sources: ``inline`` (base64), ``inlineString`` (PEM text), or ``secret: NAME``: the
  proxy's Envoy reads the PEM from the environment variable ``RECONCILER_SECRET_<NAME>``
  (upper case, other characters as ``_``), so private keys never go through Git or the
  control plane.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from envoy.config.cluster.v3 import cluster_pb2 as envoy_cluster
from envoy.config.core.v3 import base_pb2 as envoy_base
from envoy.config.endpoint.v3 import endpoint_pb2 as envoy_endpoint
from envoy.extensions.transport_sockets.tls.v3 import common_pb2 as envoy_tls_common
from envoy.extensions.transport_sockets.tls.v3 import tls_pb2 as envoy_tls
from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2 as envoy_upstream_http

from reconciler.compile.builders.clusters import DEFAULT_CONNECT_TIMEOUT_S
from reconciler.compile.builders.endpoints import socket_address
from reconciler.compile.builders.values import set_duration
from reconciler.compile.context import ClusterParts
from reconciler.errors import CompileError
from reconciler.model import Resource

TLS_SOCKET = "envoy.transport_sockets.tls"
SECRET_ENV_PREFIX = "RECONCILER_SECRET_"
SYSTEM_CA_FILE = "/etc/ssl/certs/ca-certificates.crt"
"""The system's CA bundle on the proxy's host (Debian, Ubuntu, Alpine), as Kuma's
``systemCaPath``: Envoy refuses SAN checks against ``system_root_certs`` alone."""
TLS_VERSIONS = {
    "TLSAuto": envoy_tls_common.TlsParameters.TLS_AUTO,
    "TLS10": envoy_tls_common.TlsParameters.TLSv1_0,
    "TLS11": envoy_tls_common.TlsParameters.TLSv1_1,
    "TLS12": envoy_tls_common.TlsParameters.TLSv1_2,
    "TLS13": envoy_tls_common.TlsParameters.TLSv1_3,
}


def secret_env(name: str) -> str:
    """The environment variable a ``secret: NAME`` data source is read from."""
    return SECRET_ENV_PREFIX + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def is_hostname(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return not address.startswith("unix://")
    return False


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _endpoints(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    raw = spec.get("endpoints")
    return [e for e in raw if isinstance(e, dict)] if isinstance(raw, list) else []


def external_cluster(resource: Resource, name: str, protocol: str) -> ClusterParts:
    spec = resource.spec
    endpoints = _endpoints(spec)
    dns = any(is_hostname(str(e.get("address", ""))) for e in endpoints)
    cluster = envoy_cluster.Cluster(
        name=name, type=envoy_cluster.Cluster.STRICT_DNS if dns else envoy_cluster.Cluster.STATIC
    )
    set_duration(cluster.connect_timeout, DEFAULT_CONNECT_TIMEOUT_S)
    if dns:
        cluster.dns_lookup_family = envoy_cluster.Cluster.V4_PREFERRED
    assignment = envoy_endpoint.ClusterLoadAssignment(cluster_name=name)
    by_priority: dict[int, list[Mapping[str, Any]]] = {}
    for endpoint in endpoints:
        priority = endpoint.get("priority")
        by_priority.setdefault(priority if isinstance(priority, int) else 0, []).append(endpoint)
    for priority in sorted(by_priority):
        locality = assignment.endpoints.add()
        locality.priority = priority
        for endpoint in by_priority[priority]:
            lb = locality.lb_endpoints.add()
            lb.endpoint.address.CopyFrom(
                socket_address(str(endpoint.get("address")), int(endpoint.get("port", 0)))
            )
    cluster.load_assignment.CopyFrom(assignment)
    parts = ClusterParts(cluster)
    if protocol in ("http", "http2", "grpc"):
        options = envoy_upstream_http.HttpProtocolOptions()
        if protocol == "http":
            options.explicit_http_config.http_protocol_options.SetInParent()
        else:
            options.explicit_http_config.http2_protocol_options.SetInParent()
        parts.http_options = options
    tls = _map(spec.get("tls"))
    if tls.get("enabled") is True:
        context = upstream_tls(resource, tls, endpoints)
        cluster.transport_socket.name = TLS_SOCKET
        cluster.transport_socket.typed_config.Pack(context, deterministic=True)
    return parts


def server_name(tls: Mapping[str, Any], endpoints: list[Mapping[str, Any]]) -> str:
    """``verification.serverName``, else the first endpoint address that is a hostname."""
    name = _map(tls.get("verification")).get("serverName")
    if isinstance(name, str) and name:
        return name
    for endpoint in endpoints:
        address = str(endpoint.get("address", ""))
        if is_hostname(address):
            return address
    return ""


def upstream_tls(
    resource: Resource, tls: Mapping[str, Any], endpoints: list[Mapping[str, Any]]
) -> envoy_tls.UpstreamTlsContext:
    verification = _map(tls.get("verification"))
    mode = verification.get("mode", "Secured")
    sni = server_name(tls, endpoints)
    context = envoy_tls.UpstreamTlsContext(
        sni=sni, allow_renegotiation=tls.get("allowRenegotiation") is True
    )
    common = context.common_tls_context
    version = _map(tls.get("version"))
    for field, target in (("min", "tls_minimum_protocol_version"), ("max", "tls_maximum_protocol_version")):  # fmt: skip
        value = version.get(field)
        if isinstance(value, str) and value in TLS_VERSIONS and value != "TLSAuto":
            setattr(common.tls_params, target, TLS_VERSIONS[value])
    cert, key = verification.get("clientCert"), verification.get("clientKey")
    if isinstance(cert, dict) and isinstance(key, dict):
        certificate = common.tls_certificates.add()
        certificate.certificate_chain.CopyFrom(data_source(resource, cert, "clientCert"))
        certificate.private_key.CopyFrom(data_source(resource, key, "clientKey"))
    if mode in ("SkipCA", "SkipAll"):
        return context
    validation = common.validation_context
    ca = verification.get("caCert")
    if isinstance(ca, dict):
        validation.trusted_ca.CopyFrom(data_source(resource, ca, "caCert"))
    else:
        validation.trusted_ca.filename = SYSTEM_CA_FILE
    if mode == "SkipSAN":
        return context
    sans = verification.get("subjectAltNames")
    wanted = [s for s in sans if isinstance(s, dict)] if isinstance(sans, list) else []
    if not wanted and sni:
        wanted = [{"type": "Exact", "value": sni}]
    for san in wanted:
        matcher = validation.match_typed_subject_alt_names.add()
        matcher.san_type = envoy_tls_common.SubjectAltNameMatcher.DNS
        if san.get("type") == "Prefix":
            matcher.matcher.prefix = str(san.get("value"))
        else:
            matcher.matcher.exact = str(san.get("value"))
    return context


def data_source(resource: Resource, raw: Mapping[str, Any], field: str) -> envoy_base.DataSource:
    """Kuma's DataSource: ``inline`` (base64), ``inlineString`` or ``secret``."""
    if isinstance(raw.get("inlineString"), str):
        return envoy_base.DataSource(inline_string=raw["inlineString"])
    if isinstance(raw.get("inline"), str):
        try:
            decoded = base64.b64decode(raw["inline"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CompileError(
                f"MeshExternalService {resource.name}: spec.tls.verification.{field}.inline "
                f"is not valid base64 ({exc}); give the PEM base64-encoded, or as inlineString"
            ) from exc
        return envoy_base.DataSource(inline_bytes=decoded)
    if isinstance(raw.get("secret"), str):
        return envoy_base.DataSource(environment_variable=secret_env(raw["secret"]))
    raise CompileError(
        f"MeshExternalService {resource.name}: spec.tls.verification.{field} has no "
        "inline, inlineString or secret"
    )
