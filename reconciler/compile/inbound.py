"""One inbound of one proxy -> its listener (inline route config) and the local app cluster.

Kuma 2.x: listener ``inbound:<address>:<port>``; HTTP protocols get an HCM with the inline
route config ``inbound:<service>`` routing ``/`` to ``localhost:<servicePort>``; ``tcp``
gets a ``tcp_proxy`` to that cluster. The local cluster is STATIC, pointing at
``serviceAddress`` (default 127.0.0.1) and ``servicePort`` (default ``port``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from envoy.config.cluster.v3 import cluster_pb2 as envoy_cluster
from envoy.config.listener.v3 import listener_pb2 as envoy_listener

from reconciler import names
from reconciler.compile.builders import clusters as cluster_builders
from reconciler.compile.builders import listeners as listener_builders
from reconciler.compile.builders import routes as route_builders
from reconciler.compile.context import (
    Hook,
    InboundContext,
    ListenerParts,
    Section,
    Source,
    proxy_source,
)
from reconciler.compile.inventory import HTTP_PROTOCOLS, Inbound, MeshIndex, Proxy
from reconciler.compile.matching import Matcher, PolicySet
from reconciler.compile.merge import NO_CONF, Merged
from reconciler.compile.plugin import PolicyPlugin
from reconciler.compile.plugins import plugins
from reconciler.compile.shared import Shared
from reconciler.compile.trace import InboundTrace, Skip, TraceParts

HTTP2_UPSTREAM = frozenset({"http2", "grpc"})
_INBOUND_SECTIONS = frozenset({Section.FROM, Section.RULES, Section.DEFAULT})


@dataclass(frozen=True, slots=True)
class InboundResources:
    listener: envoy_listener.Listener
    cluster: envoy_cluster.Cluster
    trace: InboundTrace
    skipped: tuple[Skip, ...]


def _plugins() -> list[PolicyPlugin]:
    hooks = {Hook.INBOUND_CLUSTER, Hook.INBOUND_LISTENER, Hook.INBOUND_ROUTE}
    return [p for p in plugins().values() if p.hooks & hooks and p.sections & _INBOUND_SECTIONS]


def _key(confs: Mapping[str, Merged], hook: Hook) -> tuple[tuple[str, str], ...]:
    return tuple((k, m.key) for k, m in confs.items() if hook in plugins()[k].hooks)


class InboundBuilder:
    def __init__(self, index: MeshIndex, matcher: Matcher, shared: Shared) -> None:
        self.index = index
        self.matcher = matcher
        self.shared = shared
        self.plugins = _plugins()
        self.trace_parts = TraceParts()
        """Equal inbound confs of this compile's traces held once (replicas share them)."""

    def build(
        self,
        selected: Mapping[str, PolicySet],
        proxy: Proxy,
        inbound: Inbound,
        source: Source | None = None,
    ) -> InboundResources:
        confs: dict[str, Merged] = {}
        notes: list[Skip] = []
        for plugin in self.plugins:
            policies = selected.get(plugin.kind, ())
            if Section.DEFAULT in plugin.sections:
                single = self.matcher.single_inbound(policies, proxy, inbound) if policies else None
                if single is not None:
                    confs[plugin.kind] = single
                continue
            merged, skipped = self.matcher.inbound(
                policies,
                proxy,
                inbound,
                peer_rules=plugin.peer_rules,
                matched_rules=plugin.matched_rules,
            )
            notes.extend(skipped)
            if merged is None and plugin.inbound_defaults and policies:
                merged = NO_CONF
            if merged is not None:
                confs[plugin.kind] = merged
        identity = source if source is not None else proxy_source(proxy)
        ctx = InboundContext(self.index.name, proxy.node_id, inbound, identity)
        cluster_name = names.local_cluster(inbound.service_port)
        listener_name = names.inbound_listener(inbound.address, inbound.port)
        cluster = self._cluster(ctx, cluster_name, confs)
        listener = self._listener(ctx, listener_name, cluster_name, confs)
        trace = InboundTrace(inbound, listener_name, cluster_name, self.trace_parts.confs(confs))
        return InboundResources(listener, cluster, trace, tuple(notes))

    def _cluster(
        self, ctx: InboundContext, name: str, confs: Mapping[str, Merged]
    ) -> envoy_cluster.Cluster:
        inbound = ctx.inbound
        key = (
            "inbound-cluster",
            name,
            inbound.service_address,
            inbound.protocol,
            _key(confs, Hook.INBOUND_CLUSTER),
        )

        def build() -> envoy_cluster.Cluster:
            parts = cluster_builders.static_cluster(
                name,
                inbound.service_address,
                inbound.service_port,
                http2=inbound.protocol in HTTP2_UPSTREAM,
            )
            for plugin in self.plugins:
                if plugin.kind in confs and Hook.INBOUND_CLUSTER in plugin.hooks:
                    plugin.inbound_cluster(parts, confs[plugin.kind], ctx)
            return cluster_builders.finish(parts)

        return self.shared.clusters.get(key, build)

    def _listener(
        self, ctx: InboundContext, name: str, cluster: str, confs: Mapping[str, Merged]
    ) -> envoy_listener.Listener:
        inbound = ctx.inbound
        key = (
            "inbound-listener",
            name,
            inbound.service,
            inbound.protocol,
            cluster,
            _key(confs, Hook.INBOUND_LISTENER),
            _key(confs, Hook.INBOUND_ROUTE),
            ctx.node_id if any(plugins()[k].per_proxy for k in confs) else None,
        )

        def build() -> envoy_listener.Listener:
            listener = listener_builders.listener(name, inbound.address, inbound.port, inbound=True)
            parts = ListenerParts(listener)
            stat = names.stat_prefix(cluster)
            if inbound.protocol in HTTP_PROTOCOLS:
                route = route_builders.prefix_route(
                    names.route_name(names.inbound_route_config(inbound.service), 0), cluster
                )
                for plugin in self.plugins:
                    if plugin.kind in confs and Hook.INBOUND_ROUTE in plugin.hooks:
                        plugin.inbound_route(route, confs[plugin.kind], ctx)
                config = route_builders.route_configuration(
                    names.inbound_route_config(inbound.service),
                    names.virtual_host(inbound.service),
                    [route],
                )
                parts.hcm = listener_builders.http_connection_manager(stat, route_config=config)
            else:
                parts.tcp_proxy = listener_builders.tcp_proxy(stat, cluster)
            for plugin in self.plugins:
                if plugin.kind in confs and Hook.INBOUND_LISTENER in plugin.hooks:
                    plugin.inbound_listener(parts, confs[plugin.kind], ctx)
            return listener_builders.finish(parts)

        return self.shared.listeners.get(key, build)
