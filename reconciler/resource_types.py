"""Envoy resource type URLs and the per-proxy configuration the compiler hands to snapshots.

The one place type URLs are spelled. ``ProxyConfig`` is the contract between ``compile``
(which fills it with typed proto messages) and ``snapshot``/``diff``/``serve`` (which never
import the compiler).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class TypeUrl(StrEnum):
    LISTENER = "type.googleapis.com/envoy.config.listener.v3.Listener"
    ROUTE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
    CLUSTER = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
    ENDPOINT = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
    SECRET = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"

    @property
    def short(self) -> str:
        return _SHORT[self]

    @property
    def group(self) -> str:
        """Plural name used in renders and status: listeners, routes, clusters, ..."""
        return _GROUP[self]


_SHORT = {
    TypeUrl.LISTENER: "LDS",
    TypeUrl.ROUTE: "RDS",
    TypeUrl.CLUSTER: "CDS",
    TypeUrl.ENDPOINT: "EDS",
    TypeUrl.SECRET: "SDS",
}
_GROUP = {
    TypeUrl.LISTENER: "listeners",
    TypeUrl.ROUTE: "routes",
    TypeUrl.CLUSTER: "clusters",
    TypeUrl.ENDPOINT: "endpoints",
    TypeUrl.SECRET: "secrets",
}

PUSH_ORDER = (TypeUrl.CLUSTER, TypeUrl.ENDPOINT, TypeUrl.SECRET, TypeUrl.LISTENER, TypeUrl.ROUTE)
"""Make-before-break: clusters and their endpoints (and secrets) before listeners and routes."""


@dataclass(slots=True)
class ProxyConfig:
    """Everything one proxy (node id ``<mesh>.<name>``) receives, as typed proto messages.

    Once its snapshot is built, the serve loop swaps ``resources`` for a mapping that holds
    the snapshot's encoded resources and decodes them on access
    (:func:`reconciler.snapshot.compact`): the same content, without keeping every proxy's
    messages alive. The object itself stays the same (unchanged proxies are recognised by
    identity)."""

    node_id: str
    resources: Mapping[TypeUrl, Sequence[Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    """Human-readable remarks for ``render`` (e.g. a policy kind not compiled yet)."""
    edited_by: dict[tuple[TypeUrl, str], tuple[str, ...]] = field(default_factory=dict)
    """Resources a MeshProxyPatch added or changed: the modifications that did it, each as
    ``MeshProxyPatch <name> <field> (<file>:<line>)``, in the order they ran."""
    base: ProxyConfig | None = field(default=None, compare=False, repr=False)
    """The config this one extends with more resources (a compiled config with its SDS
    secrets added), sharing its resource lists: compacted together with this one."""

    def of(self, type_url: TypeUrl) -> Sequence[Any]:
        return self.resources.get(type_url, [])

    def by_name(self) -> Mapping[TypeUrl, Mapping[str, Any]]:
        return {t: {resource_name(m): m for m in ms} for t, ms in self.resources.items()}


def resource_name(message: Any) -> str:
    """The xDS name of a resource (``cluster_name`` for ClusterLoadAssignment)."""
    name = getattr(message, "name", "") or getattr(message, "cluster_name", "")
    return str(name)
