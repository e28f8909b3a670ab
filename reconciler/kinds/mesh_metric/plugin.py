"""MeshMetric: each selected proxy serves its Envoy metrics for Prometheus, from Envoy itself.

Kuma 2.14 ``meshmetric/plugin/v1alpha1/plugin.go``: the policies selecting a proxy merge
into one conf (single-item rules, top-level ``default``); without backends nothing is built.
Each ``Prometheus`` backend becomes a listener on the Dataplane address and the backend's
``port`` (default 5670) serving ``path`` (default ``/metrics``).

``prometheus_configurer.go`` names the listener ``_kuma:metrics:prometheus:<clientId>``
(``default-backend`` without one), INBOUND (``NewInboundListenerBuilder``), with one HTTP
connection manager (``StaticEndpoints``: stat prefix = the listener name sanitised, codec
AUTO, router only, an inline route config whose one virtual host, named like the listener,
matches ``*`` and sends the path *prefix* to the cluster with a ``prefix_rewrite``,
``validate_clusters: false``). Kuma's cluster goes to kuma-dp's metrics hijacker over a unix
socket; here, without kuma-dp, it is a STATIC cluster to Envoy's own admin (Kuma's
``kuma:envoy:admin`` name, connect timeout 5 s as Kuma's ``DefaultTimeout``), and the
rewrite is the admin's ``/stats/prometheus`` with the query of :mod:`sidecar` (what of
``sidecar`` that honours).

``tls.mode``: ``ActiveMTLSBackend`` in an mTLS mesh serves the endpoint over the mesh
certificate (a client certificate of the mesh required), with a plaintext chain for scrapes
from the Dataplane's own address, as Kuma's ``Mesh.metrics`` endpoint and Kuma 3 do (Kuma
2.14's MeshMetric plugin still serves this mode in plaintext). Not applied, with a note
naming the part: ``ProvidedTLS`` (its certificate paths come from kuma-dp's environment;
Kuma itself falls back to plaintext without them), ``ActiveMTLSBackend`` in a mesh without
mTLS, ``OpenTelemetry`` backends (a push needs a stats sink in Envoy's bootstrap or kuma-dp),
``applications`` (scraping the application needs an agent beside Envoy), and the
``sidecar.profiles`` parts Envoy's stats filter cannot express.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from envoy.config.cluster.v3 import cluster_pb2 as envoy_cluster
from envoy.config.listener.v3 import listener_components_pb2 as envoy_listener_components
from envoy.config.listener.v3 import listener_pb2 as envoy_listener
from envoy.config.route.v3 import route_components_pb2 as envoy_route
from envoy.config.route.v3 import route_pb2 as envoy_route_config
from envoy.extensions.filters.listener.tls_inspector.v3 import tls_inspector_pb2

from reconciler import names
from reconciler.compile.builders import listeners
from reconciler.compile.context import Hook, ProxyContext, ProxyParts, Section
from reconciler.compile.merge import Merged, mapping
from reconciler.compile.mtls import TLS_INSPECTOR, TLS_SOCKET, downstream_tls_context
from reconciler.compile.plugin import PolicyBase
from reconciler.kinds.mesh_metric.sidecar import StatsQuery, stats_query

DEFAULT_PORT = 5670
DEFAULT_PATH = "/metrics"
DEFAULT_BACKEND = "default-backend"
ORIGIN = "prometheus"
"""Kuma's origin of the Prometheus listener and cluster (``generator_metadata.OriginPrometheus``)."""

APPLICATIONS_NOT_APPLIED = (
    "not applied: scraping an application's metrics needs an agent beside Envoy (Kuma's "
    "kuma-dp merges them into the scrape; reconciler agent does not scrape); the endpoint "
    "serves Envoy's metrics only"
)
OTEL_NOT_APPLIED = (
    "not applied: Envoy pushes metrics over OTLP only from a stats sink in its bootstrap "
    "(Kuma pushes from kuma-dp); no metrics are pushed to this collector"
)
PROVIDED_TLS_NOT_APPLIED = (
    "ProvidedTLS is not applied: its certificate and key paths come from kuma-dp's "
    "environment (KUMA_DATAPLANE_RUNTIME_METRICS_CERT_PATH/KEY_PATH); the endpoint is "
    "served without TLS, as Kuma does when they are not set"
)
NO_MESH_MTLS = (
    "ActiveMTLSBackend is not applied: the mesh has no mTLS backend enabled, so the "
    "endpoint is served without TLS"
)


ADMIN_ADDRESS = "127.0.0.1"
"""Where ``reconciler bootstrap`` puts Envoy's admin (``serve/bootstrap.py``)."""
CONNECT_TIMEOUT_S = 5
_ILLEGAL = re.compile(r"[^a-zA-Z_\-0-9]")


def stat_prefix(name: str) -> str:
    """Kuma's ``SanitizeMetric``: every character outside ``[a-zA-Z0-9_-]`` becomes ``_``."""
    return _ILLEGAL.sub("_", name)


@lru_cache(maxsize=4096)
def admin_cluster(admin_port: int) -> envoy_cluster.Cluster:
    """One message per admin port, shared by the proxies using it (never modified after)."""
    name = names.envoy_admin_cluster()
    out = envoy_cluster.Cluster(name=name, type=envoy_cluster.Cluster.STATIC)
    out.connect_timeout.FromSeconds(CONNECT_TIMEOUT_S)
    out.load_assignment.cluster_name = name
    endpoint = out.load_assignment.endpoints.add().lb_endpoints.add().endpoint
    endpoint.address.socket_address.address = ADMIN_ADDRESS
    endpoint.address.socket_address.port_value = admin_port
    return out


def _chain(name: str, path: str, rewrite: str) -> envoy_listener_components.FilterChain:
    """A fresh chain (each proxy's listener owns its own), parsed from bytes built once per
    distinct (name, path, rewrite): a mesh-wide policy costs one HCM build, not one per proxy."""
    return envoy_listener_components.FilterChain.FromString(_chain_bytes(name, path, rewrite))


@lru_cache(maxsize=256)
def _chain_bytes(name: str, path: str, rewrite: str) -> bytes:
    route = envoy_route.Route()
    route.match.prefix = path
    route.route.cluster = names.envoy_admin_cluster()
    route.route.prefix_rewrite = rewrite
    config = envoy_route_config.RouteConfiguration()
    config.virtual_hosts.add(name=name, domains=["*"], routes=[route])
    config.validate_clusters.value = False
    hcm = listeners.http_connection_manager(stat_prefix(name), route_config=config)
    hcm.http_filters.append(listeners.router_filter())
    chain = envoy_listener_components.FilterChain()
    network = chain.filters.add(name=listeners.HCM_FILTER)
    network.typed_config.Pack(hcm, deterministic=True)
    out: bytes = chain.SerializeToString(deterministic=True)
    return out


def prometheus_listener(
    backend: str, address: str, port: int, path: str, rewrite: str, *, mesh_mtls: str | None
) -> envoy_listener.Listener:
    """``mesh_mtls``: the mesh whose certificate serves the endpoint (``ActiveMTLSBackend``
    in an mTLS mesh): a plaintext chain for scrapes from the Dataplane's own address, then
    an mTLS chain (client certificate of the mesh required), told apart by the TLS
    inspector, as Kuma's ``Mesh.metrics`` endpoint does (``prometheus_endpoint_generator``)."""
    name = names.prometheus_listener(backend)
    out = listeners.listener(name, address, port, inbound=True)
    plain = _chain(name, path, rewrite)
    if mesh_mtls is None:
        out.filter_chains.append(plain)
        return out
    inspector = out.listener_filters.add(name=TLS_INSPECTOR)
    inspector.typed_config.Pack(tls_inspector_pb2.TlsInspector(), deterministic=True)
    own = plain.filter_chain_match.source_prefix_ranges.add()
    own.address_prefix = address
    own.prefix_len.value = 128 if ":" in address else 32
    secured = _chain(name, path, rewrite)
    secured.filter_chain_match.transport_protocol = "tls"
    secured.transport_socket.name = TLS_SOCKET
    secured.transport_socket.typed_config.Pack(
        downstream_tls_context(mesh_mtls), deterministic=True
    )
    out.filter_chains.extend([plain, secured])
    return out


class MeshMetric(PolicyBase):
    kind = "MeshMetric"
    sections = frozenset({Section.DEFAULT})
    hooks = frozenset({Hook.PROXY_DEFAULT})

    def proxy_default(self, parts: ProxyParts, conf: Merged, ctx: ProxyContext) -> None:
        parts.origin = ORIGIN
        for i, app in enumerate(conf.get("applications") or ()):
            if isinstance(app, Mapping):
                parts.skipped.append((("applications", i), APPLICATIONS_NOT_APPLIED))
        backends = [b for b in conf.get("backends") or () if isinstance(b, Mapping)]
        query = _query(conf.key, mapping(conf.get("sidecar")))
        for i, backend in enumerate(backends):
            if backend.get("type") == "OpenTelemetry":
                parts.skipped.append((("backends", i), OTEL_NOT_APPLIED))
            elif backend.get("type") == "Prometheus" and isinstance(
                backend.get("prometheus"), Mapping
            ):
                self._prometheus(parts, ctx, i, backend["prometheus"], query.rewrite())
        if parts.listeners:
            cluster = admin_cluster(ctx.admin_port)
            parts.clusters[cluster.name] = cluster
            parts.skipped.extend(query.skipped)

    def _prometheus(
        self, parts: ProxyParts, ctx: ProxyContext, i: int, conf: Mapping[str, Any], rewrite: str
    ) -> None:
        mode = mapping(conf.get("tls")).get("mode", "Disabled")
        where = ("backends", i, "prometheus", "tls", "mode")
        if mode == "ProvidedTLS":
            parts.skipped.append((where, PROVIDED_TLS_NOT_APPLIED))
        elif mode == "ActiveMTLSBackend" and not ctx.mtls:
            parts.skipped.append((where, NO_MESH_MTLS))
        secured = ctx.mesh if mode == "ActiveMTLSBackend" and ctx.mtls else None
        client = conf.get("clientId")
        backend = client if isinstance(client, str) else DEFAULT_BACKEND
        port = _int(conf.get("port"), DEFAULT_PORT)
        name = names.prometheus_listener(backend)
        taken = ctx.listener_on(ctx.address, port) or next(
            (
                other.name
                for other in parts.listeners.values()
                if other.address.socket_address.port_value == port and other.name != name
            ),
            None,
        )
        if taken is not None:
            message = f"not applied: port {port} is already {taken} of this proxy"
            parts.skipped.append((("backends", i, "prometheus", "port"), message))
            return
        listener = prometheus_listener(
            backend,
            ctx.address,
            port,
            str(conf.get("path", DEFAULT_PATH)),
            rewrite,
            mesh_mtls=secured,
        )
        parts.listeners[listener.name] = listener


_QUERIES: dict[str, StatsQuery] = {}


def _query(key: str, sidecar: Mapping[str, Any]) -> StatsQuery:
    """``stats_query`` memoised by the merged conf's canonical key (equal confs, equal
    query); bounded, since confs differ only as often as policies do."""
    found = _QUERIES.get(key)
    if found is None:
        if len(_QUERIES) > 1024:
            _QUERIES.clear()
        found = _QUERIES[key] = stats_query(sidecar)
    return found


def _int(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


PLUGIN = MeshMetric()
