"""MeshTLS on the mesh's mTLS listeners and clusters (Kuma 2.14 ``meshtls/plugin/v1alpha1``).

Applied only when the mesh has mTLS (``Apply``: "skip applying MeshTLS, mTLS is disabled"):

* each inbound: the merged ``from[]`` (``kind: Mesh``) / ``rules[]`` conf of the MeshTLS
  policies selecting it (``MatchesAllIncomingTraffic``); ``mode`` Strict or Permissive
  replaces the Mesh backend's mode for that inbound (``getMeshTLSMode``: the conf's mode
  first); ``tlsVersion`` min/max and ``tlsCiphers`` go into the ``tls_params`` of the mesh
  mTLS filter chain's DownstreamTlsContext (legacy ``ServerSideMTLS`` with version and
  ciphers);
* every mesh (EDS, mTLS) cluster of the proxy: the conf of one inbound of the proxy (Kuma
  iterates a map and takes the first; here the first inbound in order) sets the same
  ``tls_params`` on the UpstreamTlsContext (``configureTLSParams``); external services are
  left alone.

``TLSAuto`` is Envoy's ``TLS_AUTO``; ``TLS10``..``TLS13`` are ``TLSv1_0``..``TLSv1_3``.
"""

from __future__ import annotations

from typing import Any

from envoy.config.cluster.v3 import cluster_pb2 as envoy_cluster
from envoy.config.listener.v3 import listener_pb2 as envoy_listener
from envoy.extensions.transport_sockets.tls.v3 import common_pb2 as envoy_tls_common
from envoy.extensions.transport_sockets.tls.v3 import tls_pb2 as envoy_tls

from reconciler.compile.merge import Merged
from reconciler.identity.backend import MtlsMode

KIND = "MeshTLS"
TLS_SOCKET = "envoy.transport_sockets.tls"
VERSIONS = {
    "TLSAuto": envoy_tls_common.TlsParameters.TLS_AUTO,
    "TLS10": envoy_tls_common.TlsParameters.TLSv1_0,
    "TLS11": envoy_tls_common.TlsParameters.TLSv1_1,
    "TLS12": envoy_tls_common.TlsParameters.TLSv1_2,
    "TLS13": envoy_tls_common.TlsParameters.TLSv1_3,
}
MODES = {"Strict": MtlsMode.STRICT, "Permissive": MtlsMode.PERMISSIVE}


def mode(conf: Merged | None, default: MtlsMode) -> MtlsMode:
    value = conf.get("mode") if conf is not None else None
    return MODES.get(value, default) if isinstance(value, str) else default


def tls_params(conf: Merged | None) -> envoy_tls_common.TlsParameters | None:
    """Kuma's TlsParameters of a conf, or None when it sets no version and no cipher."""
    if conf is None:
        return None
    low, high = conf.get("tlsVersion", "min"), conf.get("tlsVersion", "max")
    ciphers = conf.get("tlsCiphers")
    cipher_list = [str(c) for c in ciphers] if isinstance(ciphers, list) else []
    if not cipher_list and low is None and high is None:
        return None
    params = envoy_tls_common.TlsParameters(cipher_suites=cipher_list)
    if isinstance(low, str) and low in VERSIONS:
        params.tls_minimum_protocol_version = VERSIONS[low]
    if isinstance(high, str) and high in VERSIONS:
        params.tls_maximum_protocol_version = VERSIONS[high]
    return params


def _with_params(socket: Any, kind: type[Any], params: envoy_tls_common.TlsParameters) -> bool:
    if socket.name != TLS_SOCKET:
        return False
    context = kind()
    if not socket.typed_config.Unpack(context):
        return False
    if not context.common_tls_context.HasField("combined_validation_context"):
        return False  # not the mesh's mTLS (an application's or an external service's TLS)
    context.common_tls_context.tls_params.CopyFrom(params)
    socket.typed_config.Pack(context, deterministic=True)
    return True


def secure_inbound(
    listener: envoy_listener.Listener, params: envoy_tls_common.TlsParameters | None
) -> envoy_listener.Listener:
    """The mesh mTLS filter chains of an inbound listener with ``params``."""
    if params is None:
        return listener
    out = envoy_listener.Listener()
    out.CopyFrom(listener)
    for chain in out.filter_chains:
        _with_params(chain.transport_socket, envoy_tls.DownstreamTlsContext, params)
    return out


def secure_cluster(
    cluster: envoy_cluster.Cluster, params: envoy_tls_common.TlsParameters | None
) -> envoy_cluster.Cluster:
    if params is None or cluster.transport_socket.name != TLS_SOCKET:
        return cluster
    out = envoy_cluster.Cluster()
    out.CopyFrom(cluster)
    if not _with_params(out.transport_socket, envoy_tls.UpstreamTlsContext, params):
        return cluster
    return out
