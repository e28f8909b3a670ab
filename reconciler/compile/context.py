"""What a policy module sees: the place it configures and the mutable parts it may edit.

Policy hooks get the effective (merged) conf of their kind and a context. Contexts of shared
resources (outbound clusters, listeners, route configs) carry no proxy identity on purpose:
the compiler builds each distinct one once and shares it, so a hook may only depend on its
conf and its context.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from enum import StrEnum

from envoy.config.cluster.v3 import cluster_pb2 as envoy_cluster
from envoy.config.listener.v3 import listener_components_pb2 as envoy_listener_components
from envoy.config.listener.v3 import listener_pb2 as envoy_listener
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as envoy_hcm,
)
from envoy.extensions.filters.network.tcp_proxy.v3 import tcp_proxy_pb2 as envoy_tcp
from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2 as envoy_upstream_http

from reconciler import names
from reconciler.compile.inventory import HTTP_PROTOCOLS, Inbound, Proxy
from reconciler.model import FieldPath


class Hook(StrEnum):
    """The places a policy kind can configure; a kind's conf only keys the places it hooks."""

    OUTBOUND_CLUSTER = "outbound_cluster"
    OUTBOUND_LISTENER = "outbound_listener"
    OUTBOUND_ROUTE = "outbound_route"
    INBOUND_LISTENER = "inbound_listener"
    INBOUND_CLUSTER = "inbound_cluster"
    INBOUND_ROUTE = "inbound_route"
    PROXY = "proxy"
    """The whole proxy's resources, once every other hook ran (``proxy_resources``)."""
    PROXY_DEFAULT = "proxy_default"
    """Resources of their own on each selected proxy from the merged top-level ``default``
    (MeshMetric's metrics listener), added before ``PROXY`` edits run."""


class Section(StrEnum):
    """Which parts of a policy the compiler merges for a kind."""

    TO = "to"
    FROM = "from"
    RULES = "rules"
    DEFAULT = "default"
    """The top-level ``default`` (Kuma's single-item rules: MeshMetric, MeshTrace)."""


TagSet = tuple[tuple[str, str], ...]
"""Kuma's MultiValueTagSet: (tag, its sorted values joined by ``,``), sorted by tag."""


@dataclass(frozen=True, slots=True)
class ClusterContext:
    """An outbound cluster: the upstream ``service`` (or a subset of it)."""

    mesh: str
    service: str
    protocol: str
    name: str
    source_tags: TagSet = ()
    """The calling proxy's tags, set only when a ``per_proxy`` kind hooks the cluster (the
    cluster is then keyed by them: shared by callers with the same tags)."""

    @property
    def is_http(self) -> bool:
        return self.protocol in HTTP_PROTOCOLS


@dataclass(frozen=True, slots=True)
class Source:
    """The proxy an outbound belongs to. Only kinds with ``per_proxy`` may read it: the
    outbound listeners they hook are then keyed by it (and no longer shared across proxies)."""

    dataplane: str
    service: str
    """The proxy's identifying service: the ``kuma.io/service`` of its first inbound."""
    address: str
    tags: TagSet = ()
    labels: TagSet = ()
    """The Dataplane's labels, sorted (``kuma.io/zone``, ``kuma.io/workload``, ...)."""
    state: tuple[tuple[str, Hashable], ...] = ()
    """Per kind, what its ``proxy_state`` derived from all of the proxy's confs of that kind
    (e.g. the numbering of the collector clusters its listeners send to)."""

    def state_of(self, kind: str) -> Hashable:
        return next((value for name, value in self.state if name == kind), None)

    def label(self, key: str) -> str:
        return next((value for name, value in self.labels if name == key), "")


def proxy_source(proxy: Proxy) -> Source:
    """Kuma's identifying service of a Dataplane is the service of its first inbound; its
    tag set gathers the tags of all its inbounds."""
    values: dict[str, set[str]] = {}
    for inbound in proxy.inbounds:
        for key, value in inbound.tags.items():
            values.setdefault(key, set()).add(value)
    tags = tuple((k, ",".join(sorted(values[k]))) for k in sorted(values))
    service = proxy.inbounds[0].service if proxy.inbounds else ""
    labels = tuple(sorted((str(k), str(v)) for k, v in proxy.resource.labels.items()))
    return Source(proxy.name, service, proxy.address, tags, labels)


@dataclass(frozen=True, slots=True)
class OutboundContext:
    """An outbound listener and its route config, for traffic to ``service``."""

    mesh: str
    service: str
    protocol: str
    listener_name: str
    route_config_name: str
    source: Source | None = None

    @property
    def is_http(self) -> bool:
        return self.protocol in HTTP_PROTOCOLS


@dataclass(frozen=True, slots=True)
class InboundContext:
    """One inbound of one proxy (its listener, its inline route config, its local cluster)."""

    mesh: str
    node_id: str
    inbound: Inbound
    proxy: Source | None = None
    """The proxy's identity; only kinds with ``per_proxy`` may read it."""

    @property
    def protocol(self) -> str:
        return self.inbound.protocol

    @property
    def is_http(self) -> bool:
        return self.inbound.protocol in HTTP_PROTOCOLS


@dataclass(slots=True)
class ClusterParts:
    """A cluster being built, with its HTTP protocol options unpacked for editing."""

    cluster: envoy_cluster.Cluster
    http_options: envoy_upstream_http.HttpProtocolOptions | None = None

    def http(self) -> envoy_upstream_http.HttpProtocolOptions:
        """The cluster's ``HttpProtocolOptions`` (created on first use, packed at the end)."""
        if self.http_options is None:
            self.http_options = envoy_upstream_http.HttpProtocolOptions()
            self.http_options.explicit_http_config.http_protocol_options.SetInParent()
        return self.http_options


@dataclass(slots=True)
class ListenerParts:
    """A listener being built: exactly one of ``hcm`` / ``tcp_proxy`` is set.

    ``http_filters`` go before the router, in the order policy hooks add them (hooks run in
    registry order). The compiler packs everything into the listener afterwards.
    """

    listener: envoy_listener.Listener
    hcm: envoy_hcm.HttpConnectionManager | None = None
    tcp_proxy: envoy_tcp.TcpProxy | None = None
    http_filters: list[envoy_hcm.HttpFilter] = field(default_factory=list)
    network_filters: list[envoy_listener_components.Filter] = field(default_factory=list)
    """Network filters placed before the HCM / tcp_proxy, in the order hooks add them."""


def proxy_context(proxy: Proxy, mtls: bool) -> ProxyContext:
    listening = {
        (i.address, i.port): names.inbound_listener(i.address, i.port) for i in proxy.inbounds
    }
    listening.update(
        ((o.address, o.port), names.outbound_listener(o.address, o.port)) for o in proxy.outbounds
    )
    return ProxyContext(
        proxy.mesh,
        proxy.node_id,
        proxy.name,
        proxy.address,
        proxy.admin_port,
        mtls,
        tuple(sorted(listening.items())),
    )


@dataclass(frozen=True, slots=True)
class ProxyContext:
    """One proxy, for a ``PROXY_DEFAULT`` hook: what its own resources may depend on."""

    mesh: str
    node_id: str
    dataplane: str
    address: str
    """The Dataplane's ``networking.address``."""
    admin_port: int
    """The Envoy admin port on 127.0.0.1 (``networking.admin.port``, default 9901)."""
    mtls: bool
    """The mesh has an enabled mTLS backend: the proxy holds the mesh certificate (SDS)."""
    listening: tuple[tuple[tuple[str, int], str], ...] = ()
    """((address, port), listener name) of the proxy's inbounds and outbounds."""

    def listener_on(self, address: str, port: int) -> str | None:
        """The inbound or outbound listener already bound to ``address:port``, if any."""
        return next((name for where, name in self.listening if where == (address, port)), None)


@dataclass(slots=True)
class ProxyParts:
    """Resources a ``PROXY_DEFAULT`` hook adds to one proxy (a later one of a name replaces an
    earlier one, as in Kuma's ResourceSet), and the parts of the conf it did not apply."""

    listeners: dict[str, envoy_listener.Listener] = field(default_factory=dict)
    clusters: dict[str, envoy_cluster.Cluster] = field(default_factory=dict)
    skipped: list[tuple[FieldPath, str]] = field(default_factory=list)
    """(path in the merged conf, what is not applied); the compiler names the policy."""
    origin: str = ""
    """Kuma's origin of these resources (what MeshProxyPatch ``match.origin`` selects)."""
