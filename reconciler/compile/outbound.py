"""One outbound of one proxy -> listener, route config, clusters and endpoint assignments.

Each piece is looked up in the shared caches by everything its content depends on, so
proxies with the same outbound and the same effective policies share the same objects.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from envoy.config.cluster.v3 import cluster_pb2 as envoy_cluster
from envoy.config.endpoint.v3 import endpoint_pb2 as envoy_endpoint
from envoy.config.listener.v3 import listener_pb2 as envoy_listener
from envoy.config.route.v3 import route_components_pb2 as envoy_route
from envoy.config.route.v3 import route_pb2 as envoy_route_config

from reconciler import codes, names
from reconciler.compile import http_routes as http_route
from reconciler.compile import kuma_tags
from reconciler.compile import tcp_routes as tcp_route
from reconciler.compile.builders import clusters as cluster_builders
from reconciler.compile.builders import endpoints as endpoint_builders
from reconciler.compile.builders import listeners as listener_builders
from reconciler.compile.builders import routes as route_builders
from reconciler.compile.context import (
    ClusterContext,
    Hook,
    ListenerParts,
    OutboundContext,
    Section,
    Source,
    TagSet,
)
from reconciler.compile.external import external_cluster
from reconciler.compile.http_matching import ROOT_MATCH
from reconciler.compile.inventory import HTTP_PROTOCOLS, MeshIndex, Outbound
from reconciler.compile.matching import Matcher, PolicySet
from reconciler.compile.matching import rule_key as matches_key
from reconciler.compile.merge import KeyedRule, Merged, canonical
from reconciler.compile.mesh_services import MESH_EXTERNAL_SERVICE as EXTERNAL
from reconciler.compile.mesh_services import references_real_resource, route_backend
from reconciler.compile.plugin import PolicyPlugin
from reconciler.compile.plugins import plugins
from reconciler.compile.shared import Shared
from reconciler.compile.trace import OutboundTrace, RouteTrace, Skip, TraceParts
from reconciler.model import Kind
from reconciler.targetref import SERVICE_TAG

T = TypeVar("T")

CATCH_ALL_KEY = matches_key([ROOT_MATCH])


@dataclass(frozen=True, slots=True)
class OutboundResources:
    listener: envoy_listener.Listener
    route_config: envoy_route_config.RouteConfiguration | None
    clusters: tuple[envoy_cluster.Cluster, ...]
    assignments: tuple[envoy_endpoint.ClusterLoadAssignment, ...]
    trace: OutboundTrace
    skipped: tuple[Skip, ...]


_OUTBOUND_SECTIONS = frozenset({Section.TO, Section.DEFAULT})


def _plugins_with(hook: Hook) -> list[PolicyPlugin]:
    return [p for p in plugins().values() if hook in p.hooks and p.sections & _OUTBOUND_SECTIONS]


def _confs(
    matcher: Matcher,
    selected: Mapping[str, PolicySet],
    service: str,
    plugins: Sequence[PolicyPlugin],
) -> dict[str, Merged]:
    out: dict[str, Merged] = {}
    for plugin in plugins:
        policies = selected.get(plugin.kind, ())
        if Section.DEFAULT in plugin.sections:
            merged = matcher.single(policies) if policies else None
        else:
            merged = matcher.outbound(policies, service)
        if merged is not None:
            out[plugin.kind] = merged
    return out


def _key(confs: Mapping[str, Merged]) -> tuple[tuple[str, str], ...]:
    return tuple((kind, m.key) for kind, m in confs.items())


def _source_key(ctx: OutboundContext, confs: Mapping[str, Merged]) -> Hashable:
    """What of the proxy's identity the per-proxy kinds' output depends on (None: nothing)."""
    parts = tuple(
        (kind, plugins()[kind].source_key(m, ctx.source))
        for kind, m in confs.items()
        if plugins()[kind].per_proxy
    )
    return (ctx.mesh, parts) if parts else None


def _shadowed(rule: KeyedRule, by: str) -> Skip:
    last = rule.default.contributions[-1]
    return Skip(
        last.resource,
        (*last.path[:-1], "matches"),
        f"never matched: this policy's PathPrefix / rule (route {by}) comes first, because "
        "Kuma sorts matches with a path before matches without one (the implicit catch-all "
        "goes last, but a PathPrefix / rule written in a policy is sorted like any other)",
        codes.ROUTE_SHADOWED,
    )


class OutboundBuilder:
    """Builds outbounds of one mesh, sharing results through ``shared``."""

    def __init__(self, index: MeshIndex, matcher: Matcher, shared: Shared) -> None:
        self.index = index
        self.matcher = matcher
        self.shared = shared
        self.cluster_plugins = _plugins_with(Hook.OUTBOUND_CLUSTER)
        self.listener_plugins = _plugins_with(Hook.OUTBOUND_LISTENER)
        self.route_plugins = _plugins_with(Hook.OUTBOUND_ROUTE)
        every = {
            p.kind: p for p in (*self.cluster_plugins, *self.listener_plugins, *self.route_plugins)
        }
        self.all_plugins = list(every.values())
        self.trace_parts = TraceParts()
        """One object per equal part of the outbounds' traces in this compile (the proxies
        calling a service mostly share its confs: a trace kept by a server holds them once)."""

    def _one(self, key: Hashable, value: T) -> T:
        return self.trace_parts.one(key, value)

    def _shared_confs(self, confs: Mapping[str, Merged]) -> Mapping[str, Merged]:
        return self.trace_parts.confs(confs)

    def build(
        self, selected: Mapping[str, PolicySet], outbound: Outbound, source: Source | None = None
    ) -> OutboundResources:
        service = outbound.service
        protocol = self.index.protocol(service)
        listener_name = names.outbound_listener(outbound.address, outbound.port)
        ctx = OutboundContext(
            self.index.name,
            service,
            protocol,
            listener_name,
            names.outbound_route_config(service),
            source,
        )
        confs = _confs(self.matcher, selected, service, self.all_plugins)
        destination = self.index.destinations.get(service)
        if destination is not None and destination.kind == EXTERNAL:
            # Kuma applies proxy-wide kinds (MeshTrace) to the listeners of real resources
            # except MeshExternalServices (``IndexByOrigin(NonMeshExternalService)``)
            confs = {k: m for k, m in confs.items() if Section.DEFAULT not in plugins()[k].sections}
        tcp_conf = self.matcher.tcp_route(selected.get(Kind.MESH_TCP_ROUTE, ()), service)
        route_config: envoy_route_config.RouteConfiguration | None = None
        route_traces: list[RouteTrace] = []
        skipped: list[Skip] = []
        rules: Sequence[KeyedRule] = ()
        if protocol in HTTP_PROTOCOLS:
            rules = self.matcher.http_rules(selected.get(Kind.MESH_HTTP_ROUTE, ()), service)
        # Kuma 2.14 (meshtcproute listeners_backendrefs.go): an HTTP outbound is routed by
        # MeshTCPRoute, as a tcp_proxy, when one applies and no MeshHTTPRoute does.
        if protocol in HTTP_PROTOCOLS and (tcp_conf is None or rules):
            per_route = {
                p.kind: found
                for p in self.route_plugins
                if (found := self.matcher.route_confs(selected.get(p.kind, ()), service))
            }
            route_config, backends, route_traces, skipped = self._routes(
                ctx, confs, rules, per_route
            )
            listener = self._listener(ctx, outbound, confs, None)
        else:
            refs = tcp_conf.get("backendRefs") if tcp_conf is not None else None
            skipped = http_route.ref_skips(tcp_conf, "backendRefs", refs, self._resolve)
            weighted = tcp_route.backends(tcp_conf, service, self._resolve) or [
                (http_route.Backend(service, ()), 1)
            ]
            backends = [b for b, _ in weighted]
            listener = self._listener(ctx, outbound, confs, weighted)
        built_clusters: list[envoy_cluster.Cluster] = []
        assignments: list[envoy_endpoint.ClusterLoadAssignment] = []
        cluster_confs: dict[str, Mapping[str, Merged]] = {}
        for backend in dict.fromkeys(backends):
            cluster, backend_confs = self._cluster(selected, backend, source)
            built_clusters.append(cluster)
            if cluster.type == envoy_cluster.Cluster.EDS:
                assignments.append(self._assignment(backend))
            cluster_confs[backend.cluster] = self._shared_confs(backend_confs)
        upstreams = frozenset(
            {service, *(b.service for b in backends), *_referenced(rules, self._resolve)}
        )
        trace = OutboundTrace(
            outbound,
            protocol,
            listener_name,
            self._shared_confs(confs),
            route_traces,
            tcp_conf,
            self._one(("clusters", *((k, id(c)) for k, c in cluster_confs.items())), cluster_confs),
            # services whose Dataplanes decide this outbound: the routes' backends, also the
            # ones left out of a split for now (a Dataplane appearing brings them in)
            self._one(upstreams, upstreams),
            self._destination(service) if outbound.backend_ref is not None else None,
        )
        return OutboundResources(
            listener, route_config, tuple(built_clusters), tuple(assignments), trace, tuple(skipped)
        )

    def _destination(self, service: str) -> dict[str, Any] | None:
        """What ``inspect`` shows of the MeshService port / MeshExternalService reached."""
        destination = self.index.destinations.get(service)
        if destination is None:
            return None
        resource = destination.resource
        return {
            "kind": destination.kind,
            "name": destination.name,
            "port": destination.port,
            "sectionName": destination.section,
            "hostnames": list(self.index.hostnames.get(service, ())),
            "at": (
                f"{resource.file}:{resource.position.line}"
                if resource is not None
                else f"generated from the {SERVICE_TAG} tags (Mesh meshServices.mode)"
            ),
        }

    def _listener(
        self,
        ctx: OutboundContext,
        outbound: Outbound,
        confs: Mapping[str, Merged],
        weighted: list[tuple[http_route.Backend, int]] | None,
    ) -> envoy_listener.Listener:
        hooked = {k: m for k, m in confs.items() if plugins()[k] in self.listener_plugins}
        # The listener's name and address are set on a copy: one template per content.
        key = (
            "outbound-listener",
            ctx.service,
            ctx.protocol,
            tuple((b.cluster, w) for b, w in weighted) if weighted is not None else None,
            _key(hooked),
            _source_key(ctx, hooked),
        )

        def build() -> envoy_listener.Listener:
            listener = listener_builders.listener(
                ctx.listener_name, outbound.address, outbound.port, inbound=False
            )
            parts = ListenerParts(listener)
            stat = names.stat_prefix(ctx.route_config_name)
            if weighted is None:
                parts.hcm = listener_builders.http_connection_manager(
                    stat, rds_name=ctx.route_config_name
                )
            else:
                parts.tcp_proxy = listener_builders.tcp_proxy(stat)
                tcp_route.configure_tcp_proxy(parts.tcp_proxy, weighted)
            for plugin in self.listener_plugins:
                if plugin.kind in hooked:
                    plugin.outbound_listener(parts, hooked[plugin.kind], ctx)
            return listener_builders.finish(parts)

        template = self.shared.listeners.get(key, build)
        if template.name == ctx.listener_name:
            return template
        return self.shared.listeners.get(
            (key, ctx.listener_name),
            lambda: listener_builders.relocated(
                template, ctx.listener_name, outbound.address, outbound.port
            ),
        )

    def _routes(
        self,
        ctx: OutboundContext,
        confs: Mapping[str, Merged],
        rules: Sequence[KeyedRule],
        per_route: Mapping[str, Mapping[str, Merged]],
    ) -> tuple[
        envoy_route_config.RouteConfiguration,
        list[http_route.Backend],
        list[RouteTrace],
        list[Skip],
    ]:
        hooked = {k: m for k, m in confs.items() if plugins()[k] in self.route_plugins}
        routable = self._routable
        tags = self._tags_header(ctx)
        key = (
            "outbound-routes",
            ctx.route_config_name,
            ctx.protocol,
            tuple((r.key, r.default.key) for r in rules),
            tuple(sorted(s for s in _referenced(rules, self._resolve) if routable(s))),
            _key(hooked),
            tuple(
                (k, tuple((r, m.key) for r, m in sorted(c.items()))) for k, c in per_route.items()
            ),
            tags,
        )

        def build() -> tuple[Any, list[http_route.Backend], list[RouteTrace], list[Skip]]:
            skips: list[Skip] = []
            routes: list[envoy_route.Route] = []
            route_keys: list[str] = []
            backends: list[http_route.Backend] = []
            traces: list[RouteTrace] = []
            shadowed_by: str | None = None
            for i, plan in enumerate(http_route.plan(rules)):
                name = names.route_name(ctx.route_config_name, i)
                built, needed, skipped = http_route.build_route(
                    plan, ctx.service, name, routable, self._resolve
                )
                skips.extend(skipped)
                if not built:
                    continue
                if shadowed_by is not None and plan.rule is not None:
                    skips.append(_shadowed(plan.rule, shadowed_by))
                if shadowed_by is None and http_route.catches_all(plan.match):
                    shadowed_by = name
                routes.extend(built)
                route_keys.extend([rule_key(plan) for _ in built])
                backends.extend(needed)
                traces.append(RouteTrace(name, plan.match, plan.rule))
            for plugin in self.route_plugins:
                base = hooked.get(plugin.kind)
                own = per_route.get(plugin.kind, {})
                for route, key in zip(routes, route_keys, strict=True):
                    # Kuma: the route's conf (its merge includes the service's) when a
                    # policy targets the MeshHTTPRoute it came from, else the service's;
                    # applying the service's first keeps what the route's leaves unset
                    # (MeshRetry's fallback to the default retry policy).
                    if base is not None:
                        plugin.outbound_route(route, base, ctx)
                    if key in own:
                        plugin.outbound_route(route, own[key], ctx)
            config = route_builders.route_configuration(
                ctx.route_config_name, names.virtual_host(ctx.service), routes
            )
            if tags:
                config.request_headers_to_add.append(kuma_tags.header_option(tags))
            return config, backends, traces, skips

        config, backends, traces, skips = self.shared.routes.get(key, build)
        return config, backends, traces, skips

    def _tags_header(self, ctx: OutboundContext) -> TagSet:
        """The calling proxy's tags for ``x-kuma-tags`` (Kuma ``generateFromService``:
        ``dpTags`` only when ``meshCtx.IsXKumaTagsUsed()``: :func:`kuma_tags.users`)."""
        if ctx.source is None or not kuma_tags.users(self.index):
            return ()
        return ctx.source.tags

    def _resolve(self, ref: Mapping[str, Any]) -> tuple[str | None, str]:
        destination, why = route_backend(ref, list(self.index.destinations.values()))
        return (destination.key, "") if destination is not None else (None, why)

    def _routable(self, service: str) -> bool:
        """Kuma's ``MakeHTTPSplit`` keeps a backend whose service is HTTP, HTTP/2 or gRPC."""
        return self.index.protocols.get(service) in HTTP_PROTOCOLS

    def _cluster(
        self,
        selected: Mapping[str, PolicySet],
        backend: http_route.Backend,
        source: Source | None = None,
    ) -> tuple[envoy_cluster.Cluster, Mapping[str, Merged]]:
        protocol = self.index.protocol(backend.service)
        confs = _confs(self.matcher, selected, backend.service, self.cluster_plugins)
        per_proxy = source is not None and any(plugins()[k].per_proxy for k in confs)
        tags = source.tags if source is not None and per_proxy else ()
        ctx = ClusterContext(self.index.name, backend.service, protocol, backend.cluster, tags)
        destination = self.index.destinations.get(backend.service)
        external = destination.resource if destination and destination.kind == EXTERNAL else None
        content = canonical(external.data) if external is not None else None
        key = ("outbound-cluster", backend.cluster, protocol, _key(confs), tags, content)

        def build() -> envoy_cluster.Cluster:
            # Kuma 2.14 (core/xds/meshroute/clusters.go): every in-mesh EDS cluster speaks
            # HTTP/2 to the peer sidecar, whatever the service protocol; an external service
            # gets the cluster Kuma's ZoneEgress would use (compile/external.py).
            if external is not None:
                parts = external_cluster(external, backend.cluster, protocol)
            else:
                parts = cluster_builders.eds_cluster(backend.cluster, http2=True)
            for plugin in self.cluster_plugins:
                if plugin.kind in confs:
                    plugin.outbound_cluster(parts, confs[plugin.kind], ctx)
            return cluster_builders.finish(parts)

        return self.shared.clusters.get(key, build), confs

    def _assignment(self, backend: http_route.Backend) -> envoy_endpoint.ClusterLoadAssignment:
        def build() -> envoy_endpoint.ClusterLoadAssignment:
            wanted = dict(backend.tags)
            endpoints = [
                e
                for e in self.index.endpoints.get(backend.service, ())
                if all(e.tags.get(k) == v for k, v in wanted.items())
            ]
            return endpoint_builders.load_assignment(backend.cluster, endpoints)

        return self.shared.assignments.get((self.index.name, backend.cluster), build)


def rule_key(plan: http_route.RoutePlan) -> str:
    """The matches key of the rule a route came from (Kuma names legacy routes by the hash
    of their rule's matches; the implicit catch-all by the hash of ``[PathPrefix /]``)."""
    return plan.rule.key if plan.rule is not None else CATCH_ALL_KEY


def _referenced(rules: Sequence[KeyedRule], resolve: http_route.Resolve) -> set[str]:
    """Services the rules' backendRefs name (their routability is part of the routes' key)."""
    found: set[str] = set()
    for rule in rules:
        for ref in rule.default.conf.get("backendRefs") or ():
            if not isinstance(ref, Mapping):
                continue
            if references_real_resource(ref):
                key, _ = resolve(ref)
                if key is not None:
                    found.add(key)
            elif isinstance(ref.get("name"), str):
                found.add(ref["name"])
    return found
