"""One proxy: its inbounds and outbounds assembled into a :class:`ProxyConfig`."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from reconciler.codes import OUTBOUND_UNRESOLVED
from reconciler.compile import mesh_tls
from reconciler.compile.context import (
    Hook,
    ProxyContext,
    ProxyParts,
    Section,
    Source,
    proxy_context,
    proxy_source,
)
from reconciler.compile.inbound import InboundBuilder
from reconciler.compile.inventory import MeshIndex, Outbound, Proxy, resolve_outbound
from reconciler.compile.matching import Matcher, MatcherSeeds, PolicySet
from reconciler.compile.merge import Merged
from reconciler.compile.mtls import mesh_mtls, permission_notes
from reconciler.compile.ordering import target_ref
from reconciler.compile.outbound import OutboundBuilder
from reconciler.compile.plugins import plugins
from reconciler.compile.resource_set import EDITABLE, KIND_ORIGINS, Origin, ResourceSet
from reconciler.compile.shared import Shared
from reconciler.compile.trace import ProxyTrace, Skip
from reconciler.kinds import CATALOG
from reconciler.model import FieldPath, Kind, Resource
from reconciler.resource_types import ProxyConfig, TypeUrl
from reconciler.targetref import selects


class MeshCompiler:
    """Compiles the proxies of one mesh; builders and matcher are shared by its proxies."""

    def __init__(self, index: MeshIndex, shared: Shared, seeds: MatcherSeeds | None = None) -> None:
        self.index = index
        self.matcher = Matcher(index, list(plugins()), seeds)
        self.outbounds = OutboundBuilder(index, self.matcher, shared)
        self.inbounds = InboundBuilder(index, self.matcher, shared)
        self.mtls = mesh_mtls(index, self.matcher.policies)
        present = sorted(k for k, v in index.policies.items() if v and k not in plugins())
        self.not_applied: list[tuple[str, list[Resource]]] = [
            (k, sorted(index.policies[k], key=lambda p: p.name))
            for k in present
            if k in CATALOG and CATALOG[k].not_applied is not None
        ]
        declared = {k for k, _ in self.not_applied}
        self.unknown_kinds = [k for k in present if k not in declared]

    def compile(self, proxy: Proxy) -> tuple[ProxyConfig, ProxyTrace]:
        selected = self.matcher.selected(proxy)
        # replicas of a service select the same policies: their traces hold one mapping
        kept = self.outbounds.trace_parts.one(
            ("selected", *((kind, id(found)) for kind, found in selected.items())), selected
        )
        trace = ProxyTrace(proxy.node_id, kept)
        found: dict[TypeUrl, dict[str, Any]] = {t: {} for t in TypeUrl}
        roles = _Roles()
        notes: list[str] = []
        tls_policies = selected.get(mesh_tls.KIND, ())
        tls_confs = [
            self.matcher.inbound(tls_policies, proxy, i)[0] if tls_policies else None
            for i in proxy.inbounds
        ]
        resolved = [(w, *resolve_outbound(self.index, w)) for w in proxy.outbounds]
        source = self._proxy_state(
            selected, proxy, [o for _, o, _ in resolved if o is not None], proxy_source(proxy)
        )
        for inbound, tls_conf in zip(proxy.inbounds, tls_confs, strict=True):
            built = self.inbounds.build(selected, proxy, inbound, source)
            listener = built.listener
            if self.mtls is not None:
                permissions = selected.get(Kind.MESH_TRAFFIC_PERMISSION, ())
                inbound_mode = mesh_tls.mode(tls_conf, self.mtls.backend.mode)
                listener = self.mtls.inbound(listener, proxy, inbound, permissions, inbound_mode)
                listener = mesh_tls.secure_inbound(listener, mesh_tls.tls_params(tls_conf))
            found[TypeUrl.LISTENER].setdefault(built.trace.listener, listener)
            found[TypeUrl.CLUSTER].setdefault(built.trace.cluster, built.cluster)
            roles.inbound(built.trace.listener, built.trace.cluster, inbound.tags)
            trace.inbounds.append(built.trace)
            trace.skipped.extend(built.skipped)
        # Kuma takes the conf of one inbound for every upstream cluster (configureTLSParams)
        upstream_params = mesh_tls.tls_params(tls_confs[0]) if tls_confs else None
        for written, outbound, why in resolved:
            if outbound is None:
                path = ("networking", "outbound", written.index, "backendRef")
                message = f"outbound {written.address}:{written.port} is not compiled: {why}"
                trace.skipped.append(Skip(proxy.resource, path, message, OUTBOUND_UNRESOLVED))
                continue
            out = self.outbounds.build(selected, outbound, source)
            found[TypeUrl.LISTENER].setdefault(out.trace.listener, out.listener)
            roles.outbound(out.trace.listener, _outbound_tags(proxy, written.index))
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
        for kind, state in source.state:
            for cluster in plugins()[kind].proxy_clusters(state):
                found[TypeUrl.CLUSTER].setdefault(cluster.name, cluster)
                roles.added(kind, cluster.name)
            trace.skipped.extend(plugins()[kind].proxy_skips(state))
        self._proxy_hooks(selected, proxy, found, trace, roles)
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
        editors = [p for p in plugins().values() if Hook.PROXY in p.hooks and selected.get(p.kind)]
        if editors:
            edited = roles.resource_set(found)
            for plugin in editors:
                trace.skipped.extend(plugin.proxy_resources(edited, selected[plugin.kind]))
            config.resources = edited.resources()
            config.edited_by = edited.edited_by()
            trace.edits.extend(edited.edits)
            config.notes.extend(s.note() for s in trace.skipped if s.note() not in config.notes)
        return config, trace

    def _proxy_hooks(
        self,
        selected: dict[str, tuple[Resource, ...]],
        proxy: Proxy,
        found: dict[TypeUrl, dict[str, Any]],
        trace: ProxyTrace,
        roles: _Roles,
    ) -> None:
        """Kinds with a ``PROXY_DEFAULT`` hook add resources of their own from their merged
        top-level ``default``; the conf parts they skip are reported against the policy that
        set them."""
        ctx: ProxyContext | None = None
        for kind, plugin in plugins().items():
            policies = selected.get(kind, ())
            if Hook.PROXY_DEFAULT not in plugin.hooks or not policies:
                continue
            conf = self.matcher.single(policies)
            if conf is None:
                continue
            ctx = ctx or proxy_context(proxy, self.mtls is not None)
            parts = ProxyParts()
            plugin.proxy_default(parts, conf, ctx)
            trace.confs[kind] = conf
            for type_url, added in (
                (TypeUrl.LISTENER, parts.listeners),
                (TypeUrl.CLUSTER, parts.clusters),
            ):
                for name, message in added.items():
                    found[type_url][name] = message
                    if parts.origin:
                        roles.origins[(type_url, name)] = parts.origin
            trace.skipped.extend(_skip(conf, path, message) for path, message in parts.skipped)

    def _proxy_state(
        self,
        selected: Mapping[str, PolicySet],
        proxy: Proxy,
        outbounds: Sequence[Outbound],
        source: Source,
    ) -> Source:
        """``source`` with the state of each ``proxy_wide`` kind selecting the proxy, from
        its confs on the inbounds, then the outbounds (Kuma's order of listeners)."""
        state: list[tuple[str, Hashable]] = []
        for kind, policies in selected.items():
            plugin = plugins()[kind]
            if not plugin.proxy_wide or not policies:
                continue
            if Section.DEFAULT in plugin.sections:  # one proxy-wide conf (MeshTrace)
                confs = [self.matcher.single(policies)]
            else:
                confs = [self.matcher.inbound(policies, proxy, i)[0] for i in proxy.inbounds]
                # Kuma configures outbounds written with tags, then those of real resources
                # (MeshService backendRefs): the order collectors are numbered in
                ordered = sorted(outbounds, key=lambda o: o.backend_ref is not None)
                confs.extend(self.matcher.outbound(policies, o.service) for o in ordered)
            found = plugin.proxy_state([c for c in confs if c is not None], self.index.resources)
            if found is not None:
                state.append((kind, found))
        return replace(source, state=tuple(state)) if state else source

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


def _skip(conf: Merged, path: FieldPath, message: str) -> Skip:
    """``path`` of the merged conf, located in the policy that set it (or set an ancestor
    of it as a whole); a value nobody set is the most specific policy's default."""
    probe = path
    while probe and probe not in conf.origins:
        probe = probe[:-1]
    if probe:
        where = conf.origins[probe][-1]
        return Skip(where.resource, (*where.path, *path[len(probe) :]), message)
    last = conf.contributions[-1]
    return Skip(last.resource, (*last.path, *path), message)


def _outbound_tags(proxy: Proxy, index: int) -> dict[str, str]:
    """Kuma's outbound listener tags: the outbound's ``tags`` without ``kuma.io/mesh``."""
    networking = proxy.resource.data.get("networking")
    outbounds = networking.get("outbound") if isinstance(networking, dict) else None
    entry = outbounds[index] if isinstance(outbounds, list) and index < len(outbounds) else None
    tags = entry.get("tags") if isinstance(entry, dict) else None
    if not isinstance(tags, dict):
        return {}
    return {str(k): str(v) for k, v in tags.items() if k != "kuma.io/mesh"}


class _Roles:
    """Each resource's Kuma origin and each listener's tags, gathered while assembling."""

    def __init__(self) -> None:
        self.origins: dict[tuple[TypeUrl, str], str] = {}
        self.tags: dict[str, Mapping[str, str]] = {}

    def inbound(self, listener: str, cluster: str, tags: Mapping[str, str]) -> None:
        self.origins.setdefault((TypeUrl.LISTENER, listener), Origin.INBOUND)
        self.origins.setdefault((TypeUrl.CLUSTER, cluster), Origin.INBOUND)
        self.tags.setdefault(listener, dict(tags))

    def outbound(self, listener: str, tags: Mapping[str, str]) -> None:
        self.tags.setdefault(listener, tags)

    def added(self, kind: str, cluster: str) -> None:
        """A cluster a policy kind adds to the proxy (Kuma's origin of that kind)."""
        origin = KIND_ORIGINS.get(kind)
        if origin is not None:
            self.origins.setdefault((TypeUrl.CLUSTER, cluster), origin)

    def resource_set(self, found: Mapping[TypeUrl, Mapping[str, Any]]) -> ResourceSet:
        """Private copies of the editable resources (the others are shared, never edited)."""
        out = ResourceSet(listener_tags=dict(self.tags))
        for type_url, by_name in found.items():
            for name, message in by_name.items():
                if type_url in EDITABLE:
                    message = _copied(message)
                origin = self.origins.get((type_url, name), Origin.OUTBOUND)
                out.add(type_url, name, message, origin)
        return out


def _copied(message: Any) -> Any:
    out = type(message)()
    out.CopyFrom(message)
    return out
