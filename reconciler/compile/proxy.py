"""One proxy: its inbounds and outbounds assembled into a :class:`ProxyConfig`."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from functools import partial
from typing import Any

from envoy.config.cluster.v3 import cluster_pb2 as envoy_cluster

from reconciler.codes import OUTBOUND_UNRESOLVED
from reconciler.compile import mesh_tls
from reconciler.compile.context import Hook, ProxyContext, Source, proxy_source
from reconciler.compile.inbound import InboundBuilder
from reconciler.compile.inventory import MeshIndex, Proxy, resolve_outbound
from reconciler.compile.matching import Matcher, PolicySet
from reconciler.compile.merge import Merged
from reconciler.compile.mtls import mesh_mtls, permission_notes
from reconciler.compile.ordering import target_ref
from reconciler.compile.outbound import OutboundBuilder
from reconciler.compile.plugin import PolicyPlugin
from reconciler.compile.plugins import plugins
from reconciler.compile.shared import Shared
from reconciler.compile.trace import ProxyTrace, Skip
from reconciler.kinds import CATALOG
from reconciler.model import Kind, Resource
from reconciler.resource_types import ProxyConfig, TypeUrl
from reconciler.targetref import selects


class MeshCompiler:
    """Compiles the proxies of one mesh; builders and matcher are shared by its proxies."""

    def __init__(self, index: MeshIndex, shared: Shared) -> None:
        self.index = index
        self.shared = shared
        self.matcher = Matcher(index, list(plugins()))
        self.outbounds = OutboundBuilder(index, self.matcher, shared)
        self.inbounds = InboundBuilder(index, self.matcher, shared)
        self.mtls = mesh_mtls(index, self.matcher.policies)
        present = sorted(k for k, v in index.policies.items() if v and k not in plugins())
        self.not_applied: list[tuple[str, list[Resource]]] = [
            (k, sorted(index.policies[k], key=lambda p: p.name))
            for k in present
            if k in CATALOG and CATALOG[k].not_applied is not None
        ]
        self.cluster_adders = [p for p in plugins().values() if Hook.PROXY_CLUSTERS in p.hooks]
        declared = {k for k, _ in self.not_applied}
        self.unknown_kinds = [k for k in present if k not in declared]

    def compile(self, proxy: Proxy) -> tuple[ProxyConfig, ProxyTrace]:
        selected = self.matcher.selected(proxy)
        trace = ProxyTrace(proxy.node_id, selected)
        found: dict[TypeUrl, dict[str, Any]] = {t: {} for t in TypeUrl}
        notes: list[str] = []
        tls_policies = selected.get(mesh_tls.KIND, ())
        tls_confs = [
            self.matcher.inbound(tls_policies, proxy, i)[0] if tls_policies else None
            for i in proxy.inbounds
        ]
        for inbound, tls_conf in zip(proxy.inbounds, tls_confs, strict=True):
            built = self.inbounds.build(selected, proxy, inbound)
            listener = built.listener
            if self.mtls is not None:
                permissions = selected.get(Kind.MESH_TRAFFIC_PERMISSION, ())
                inbound_mode = mesh_tls.mode(tls_conf, self.mtls.backend.mode)
                listener = self.mtls.inbound(listener, proxy, inbound, permissions, inbound_mode)
                listener = mesh_tls.secure_inbound(listener, mesh_tls.tls_params(tls_conf))
            found[TypeUrl.LISTENER].setdefault(built.trace.listener, listener)
            found[TypeUrl.CLUSTER].setdefault(built.trace.cluster, built.cluster)
            trace.inbounds.append(built.trace)
            trace.skipped.extend(built.skipped)
        source = proxy_source(proxy)
        # Kuma takes the conf of one inbound for every upstream cluster (configureTLSParams)
        upstream_params = mesh_tls.tls_params(tls_confs[0]) if tls_confs else None
        for written in proxy.outbounds:
            outbound, why = resolve_outbound(self.index, written)
            if outbound is None:
                path = ("networking", "outbound", written.index, "backendRef")
                message = f"outbound {written.address}:{written.port} is not compiled: {why}"
                trace.skipped.append(Skip(proxy.resource, path, message, OUTBOUND_UNRESOLVED))
                continue
            out = self.outbounds.build(selected, outbound, source)
            found[TypeUrl.LISTENER].setdefault(out.trace.listener, out.listener)
            if out.route_config is not None:
                found[TypeUrl.ROUTE].setdefault(out.route_config.name, out.route_config)
            for cluster in out.clusters:
                if self.mtls is not None:
                    cluster = self.mtls.cluster(cluster)
                    cluster = mesh_tls.secure_cluster(cluster, upstream_params)
                found[TypeUrl.CLUSTER].setdefault(cluster.name, cluster)
            for assignment in out.assignments:
                found[TypeUrl.ENDPOINT].setdefault(assignment.cluster_name, assignment)
            trace.outbounds.append(out.trace)
            trace.skipped.extend(out.skipped)
        self._proxy_clusters(selected, proxy, source, found[TypeUrl.CLUSTER])
        for policies in selected.values():
            trace.skipped.extend(self.matcher.set_skips(policies))
        trace.skipped[:] = list(dict.fromkeys(trace.skipped))
        notes.extend(s.note() for s in trace.skipped)
        for kind, policies in selected.items():
            plugin_note = plugins()[kind].note
            if plugin_note and policies:
                notes.append(f"{plugin_note} (selected by {', '.join(p.name for p in policies)})")
        notes.extend(permission_notes(self.mtls, selected.get(Kind.MESH_TRAFFIC_PERMISSION, ())))
        notes.extend(self._not_applied_notes(proxy))
        for kind in self.unknown_kinds:
            notes.append(f"{kind} policies are not compiled yet: they have no effect on this proxy")
        resources = {t: [found[t][name] for name in sorted(found[t])] for t in TypeUrl if found[t]}
        config = ProxyConfig(proxy.node_id, resources, list(dict.fromkeys(notes)))
        return config, trace

    def _proxy_clusters(
        self,
        selected: Mapping[str, PolicySet],
        proxy: Proxy,
        source: Source,
        clusters: dict[str, Any],
    ) -> None:
        """Clusters that kinds add once per proxy from their proxy-wide conf (MeshTrace's
        collector); an existing cluster of the same name is kept."""
        ctx: ProxyContext | None = None
        for plugin in self.cluster_adders:
            policies = selected.get(plugin.kind, ())
            conf = self.matcher.single(policies) if policies else None
            if conf is None:
                continue
            if ctx is None:
                ctx = ProxyContext(self.index.name, source, is_ipv6(proxy.address))
            # the clusters depend on the conf and the address family only: built once
            key = ("proxy-clusters", plugin.kind, conf.key, ctx.ipv6)
            built: tuple[envoy_cluster.Cluster, ...] = self.shared.clusters.get(
                key, partial(_proxy_clusters, plugin, conf, ctx)
            )
            for cluster in built:
                clusters.setdefault(cluster.name, cluster)

    def _not_applied_notes(self, proxy: Proxy) -> list[str]:
        """Kinds Kuma accepts and the compiler does not apply: one note per kind naming the
        policies that select this proxy (their top-level targetRef), and what is ignored."""
        notes = []
        for kind, policies in self.not_applied:
            names = [p.name for p in policies if selects(target_ref(p), proxy.resource)]
            if names:
                notes.append(
                    f"not applied: {CATALOG[kind].not_applied} (selected by {', '.join(names)})"
                )
        return notes


def _proxy_clusters(
    plugin: PolicyPlugin, conf: Merged, ctx: ProxyContext
) -> tuple[envoy_cluster.Cluster, ...]:
    return tuple(plugin.proxy_clusters(conf, ctx))


def is_ipv6(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).version == 6
    except ValueError:
        return False
