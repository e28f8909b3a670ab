"""The contract of a policy module, and a base class whose hooks do nothing."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Protocol

from envoy.config.cluster.v3 import cluster_pb2 as envoy_cluster
from envoy.config.route.v3 import route_components_pb2 as envoy_route

from reconciler.compile.context import (
    ClusterContext,
    ClusterParts,
    Hook,
    InboundContext,
    ListenerParts,
    OutboundContext,
    ProxyContext,
    ProxyParts,
    Section,
    Source,
)
from reconciler.compile.merge import Merged
from reconciler.compile.resource_set import ResourceSet
from reconciler.compile.trace import Skip
from reconciler.model import Resource


class PolicyPlugin(Protocol):
    """One policy kind. The compiler merges its ``sections`` and calls its ``hooks``.

    A hook receives the effective conf of this kind for the place being built (already
    merged in Kuma order, with provenance) and edits the parts in place. Hooks must depend
    only on ``conf`` and the context: the results are shared across proxies.
    """

    @property
    def kind(self) -> str: ...

    @property
    def sections(self) -> frozenset[Section]: ...

    @property
    def hooks(self) -> frozenset[Hook]: ...

    @property
    def note(self) -> str | None:
        """When set, the kind compiles to nothing yet; ``render`` shows it for selected proxies."""

    @property
    def inbound_defaults(self) -> bool:
        """True when the kind configures every inbound of a proxy it selects, with its
        defaults, even if no ``from``/``rules`` entry applies there (Kuma's MeshTimeout)."""

    @property
    def peer_rules(self) -> bool:
        """True when ``from[]`` entries may name clients and are applied per client group
        (Kuma's subset rules, matched on ``x-kuma-tags``): the inbound conf is then
        ``{subsetRules: [{subset, default}]}`` when some entry names clients."""

    @property
    def matched_rules(self) -> bool:
        """True when ``rules[]`` with ``spiffeID`` matches are applied per peer: the inbound
        conf then carries them under ``matchedRules`` (:mod:`matched_routes`)."""

    @property
    def per_proxy(self) -> bool:
        """True when its output names the calling proxy: outbound listeners it hooks are then
        keyed by ``OutboundContext.source``, inbound listeners by the node, and outbound
        clusters by ``ClusterContext.source_tags`` (shared by proxies with equal tags)."""

    @property
    def proxy_wide(self) -> bool:
        """True when the kind's output on one listener depends on its confs on all of the
        proxy's listeners (Kuma numbers access-log collector clusters per proxy):
        :meth:`proxy_state` is then called before the proxy's listeners are built."""

    def proxy_state(
        self, confs: Sequence[Merged], resources: Mapping[str, Sequence[Resource]]
    ) -> Hashable:
        """For a ``proxy_wide`` kind: from its confs on the proxy's inbound listeners, then
        outbound listeners (Kuma's order), and the mesh's other resources by kind, the state
        its hooks read as ``Source.state_of(kind)`` (None: nothing)."""

    def proxy_clusters(self, state: Hashable) -> list[envoy_cluster.Cluster]:
        """For a ``proxy_wide`` kind: the clusters the proxy needs for that state
        (collectors); merged into the proxy's clusters by name."""

    def proxy_skips(self, state: Hashable) -> tuple[Skip, ...]:
        """For a ``proxy_wide`` kind: parts found not applied while deriving that state."""

    def skips(self, policy: Resource) -> tuple[Skip, ...]:
        """Parts of ``policy`` (selecting a proxy) that are accepted but not compiled."""

    def source_key(self, conf: Merged, source: Source | None) -> Hashable:
        """For a ``per_proxy`` kind: the parts of ``source`` its outbound listener output
        depends on with this ``conf`` (the listener is keyed by them)."""

    def outbound_cluster(self, parts: ClusterParts, conf: Merged, ctx: ClusterContext) -> None: ...

    def outbound_listener(
        self, parts: ListenerParts, conf: Merged, ctx: OutboundContext
    ) -> None: ...

    def outbound_route(
        self, route: envoy_route.Route, conf: Merged, ctx: OutboundContext
    ) -> None: ...

    def inbound_listener(self, parts: ListenerParts, conf: Merged, ctx: InboundContext) -> None: ...

    def inbound_cluster(self, parts: ClusterParts, conf: Merged, ctx: InboundContext) -> None: ...

    def inbound_route(
        self, route: envoy_route.Route, conf: Merged, ctx: InboundContext
    ) -> None: ...

    def proxy_default(self, parts: ProxyParts, conf: Merged, ctx: ProxyContext) -> None:
        """``conf``: the merged top-level ``default`` of the policies selecting the proxy
        (section ``DEFAULT``); add the proxy's own listeners and clusters to ``parts``."""

    def proxy_resources(
        self, resources: ResourceSet, policies: Sequence[Resource]
    ) -> tuple[Skip, ...]:
        """Edit a proxy's assembled resources (``Hook.PROXY``), after every other hook.

        ``policies`` select the proxy, least specific first. Record each change in
        ``resources.edits``; raise :class:`PolicyError` for a part that cannot be applied (the
        proxy, and so the revision, is then refused). Returns the parts not applied.
        """


class PolicyBase:
    """Subclass and override the hooks you list in ``hooks``; the rest do nothing."""

    kind: str = ""
    sections: frozenset[Section] = frozenset()
    hooks: frozenset[Hook] = frozenset()
    note: str | None = None
    inbound_defaults: bool = False
    peer_rules: bool = False
    matched_rules: bool = False
    per_proxy: bool = False
    proxy_wide: bool = False

    def proxy_state(
        self, confs: Sequence[Merged], resources: Mapping[str, Sequence[Resource]]
    ) -> Hashable:
        return None

    def proxy_clusters(self, state: Hashable) -> list[envoy_cluster.Cluster]:
        return []

    def proxy_skips(self, state: Hashable) -> tuple[Skip, ...]:
        return ()

    def skips(self, policy: Resource) -> tuple[Skip, ...]:
        return ()

    def source_key(self, conf: Merged, source: Source | None) -> Hashable:
        return source

    def outbound_cluster(self, parts: ClusterParts, conf: Merged, ctx: ClusterContext) -> None:
        return None

    def outbound_listener(self, parts: ListenerParts, conf: Merged, ctx: OutboundContext) -> None:
        return None

    def outbound_route(self, route: envoy_route.Route, conf: Merged, ctx: OutboundContext) -> None:
        return None

    def inbound_listener(self, parts: ListenerParts, conf: Merged, ctx: InboundContext) -> None:
        return None

    def inbound_cluster(self, parts: ClusterParts, conf: Merged, ctx: InboundContext) -> None:
        return None

    def inbound_route(self, route: envoy_route.Route, conf: Merged, ctx: InboundContext) -> None:
        return None

    def proxy_default(self, parts: ProxyParts, conf: Merged, ctx: ProxyContext) -> None:
        return None

    def proxy_resources(
        self, resources: ResourceSet, policies: Sequence[Resource]
    ) -> tuple[Skip, ...]:
        return ()
