"""MeshLoadBalancingStrategy: cluster load balancer and route hash policies.

Kuma 2.14 (``pkg/plugins/policies/meshloadbalancingstrategy/plugin/v1alpha1/plugin.go``,
``plugin/xds/lbconfigurer.go``, ``hashpolicyconfigurer.go``):

* ``loadBalancer.type`` -> cluster ``lb_policy``: RoundRobin, LeastRequest (+
  ``least_request_lb_config`` choiceCount / activeRequestBias when one is set), Random,
  RingHash (+ ``ring_hash_lb_config`` minimum/maximum ring size, hash function XXHash or
  MurmurHash2), Maglev (+ ``maglev_lb_config.table_size`` when set);
* hash policies go on every route of the outbound route config (HTTP services): the
  top-level ``hashPolicies`` when set, else ``ringHash.hashPolicies`` /
  ``maglev.hashPolicies`` of the chosen type. Header -> ``header``, Cookie -> ``cookie`` (name,
  path, ttl), Connection -> ``connection_properties.source_ip``, QueryParameter ->
  ``query_parameter``, FilterState -> ``filter_state``; ``terminal`` as set.
  ``SourceIP`` (an enum value Kuma's configurer has no case for: it would emit an empty,
  invalid hash policy) is compiled as ``connection_properties.source_ip: true``.
* ``localityAwareness`` is accepted and ignored: proxies here have no zones or localities
  (render notes say so for each policy that sets it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from envoy.config.cluster.v3 import cluster_pb2 as envoy_cluster
from envoy.config.route.v3 import route_components_pb2 as envoy_route

from reconciler.compile.builders.values import conf_seconds, set_duration
from reconciler.compile.context import ClusterContext, ClusterParts, Hook, OutboundContext, Section
from reconciler.compile.decimals import decimal
from reconciler.compile.merge import Merged, mapping
from reconciler.compile.plugin import PolicyBase
from reconciler.compile.trace import Skip
from reconciler.model import Kind, Resource

LB_POLICIES = {
    "RoundRobin": envoy_cluster.Cluster.ROUND_ROBIN,
    "LeastRequest": envoy_cluster.Cluster.LEAST_REQUEST,
    "Random": envoy_cluster.Cluster.RANDOM,
    "RingHash": envoy_cluster.Cluster.RING_HASH,
    "Maglev": envoy_cluster.Cluster.MAGLEV,
}
HASH_FUNCTIONS = {
    "XXHash": envoy_cluster.Cluster.RingHashLbConfig.XX_HASH,
    "MurmurHash2": envoy_cluster.Cluster.RingHashLbConfig.MURMUR_HASH_2,
}
LOCALITY_IGNORED = (
    "localityAwareness is accepted but ignored: proxies here have no zones or localities"
)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def configure_cluster(cluster: envoy_cluster.Cluster, lb: Mapping[str, Any]) -> None:
    kind = lb.get("type")
    if kind not in LB_POLICIES:
        return
    cluster.lb_policy = LB_POLICIES[kind]
    if kind == "LeastRequest" and isinstance(lb.get("leastRequest"), Mapping):
        least = lb["leastRequest"]
        config = envoy_cluster.Cluster.LeastRequestLbConfig()
        if least.get("activeRequestBias") is not None:
            config.active_request_bias.default_value = float(decimal(least["activeRequestBias"]))
        if (count := _int(least.get("choiceCount"))) is not None:
            config.choice_count.value = count
        if config.ListFields():
            cluster.least_request_lb_config.CopyFrom(config)
    elif kind == "RingHash" and isinstance(lb.get("ringHash"), Mapping):
        ring = lb["ringHash"]
        config_ring = cluster.ring_hash_lb_config
        config_ring.SetInParent()
        if (low := _int(ring.get("minRingSize"))) is not None:
            config_ring.minimum_ring_size.value = low
        if (high := _int(ring.get("maxRingSize"))) is not None:
            config_ring.maximum_ring_size.value = high
        if ring.get("hashFunction") in HASH_FUNCTIONS:
            config_ring.hash_function = HASH_FUNCTIONS[ring["hashFunction"]]
    elif kind == "Maglev" and (size := _int(mapping(lb.get("maglev")).get("tableSize"))):
        cluster.maglev_lb_config.table_size.value = size


def hash_policies(conf: Merged) -> Sequence[Any]:
    """Kuma ``getHashPolicies``: top-level ones first, else those of RingHash / Maglev."""
    top = conf.get("hashPolicies")
    if isinstance(top, list):
        return top
    lb = mapping(conf.get("loadBalancer"))
    section = {"RingHash": "ringHash", "Maglev": "maglev"}.get(str(lb.get("type")))
    nested = mapping(lb.get(section)).get("hashPolicies") if section else None
    return nested if isinstance(nested, list) else ()


def hash_policy(conf: Mapping[str, Any]) -> envoy_route.RouteAction.HashPolicy | None:
    out = envoy_route.RouteAction.HashPolicy()
    kind = conf.get("type")
    if kind == "Header":
        out.header.header_name = str(mapping(conf.get("header")).get("name", ""))
    elif kind == "Cookie":
        cookie = mapping(conf.get("cookie"))
        out.cookie.name = str(cookie.get("name", ""))
        if isinstance(cookie.get("path"), str):
            out.cookie.path = cookie["path"]
        ttl = conf_seconds(cookie.get("ttl"))
        if ttl is not None:
            set_duration(out.cookie.ttl, ttl)
    elif kind == "Connection":
        source_ip = mapping(conf.get("connection")).get("sourceIP")
        out.connection_properties.source_ip = source_ip is True
    elif kind == "SourceIP":
        out.connection_properties.source_ip = True
    elif kind == "QueryParameter":
        out.query_parameter.name = str(mapping(conf.get("queryParameter")).get("name", ""))
    elif kind == "FilterState":
        out.filter_state.key = str(mapping(conf.get("filterState")).get("key", ""))
    else:
        return None
    if conf.get("terminal") is True:
        out.terminal = True
    return out


class MeshLoadBalancingStrategy(PolicyBase):
    kind = Kind.MESH_LOAD_BALANCING_STRATEGY
    sections = frozenset({Section.TO})
    hooks = frozenset({Hook.OUTBOUND_CLUSTER, Hook.OUTBOUND_ROUTE})

    def outbound_cluster(self, parts: ClusterParts, conf: Merged, ctx: ClusterContext) -> None:
        lb = conf.get("loadBalancer")
        if isinstance(lb, Mapping):
            configure_cluster(parts.cluster, lb)

    def outbound_route(self, route: envoy_route.Route, conf: Merged, ctx: OutboundContext) -> None:
        if not route.HasField("route"):
            return
        for item in hash_policies(conf):
            if isinstance(item, Mapping) and (policy := hash_policy(item)) is not None:
                route.route.hash_policy.append(policy)

    def skips(self, policy: Resource) -> tuple[Skip, ...]:
        entries = policy.spec.get("to")
        out: list[Skip] = []
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            default = mapping(mapping(entry).get("default"))
            if "localityAwareness" in default:
                path = (*policy.spec_path, "to", i, "default", "localityAwareness")
                out.append(Skip(policy, path, LOCALITY_IGNORED))
        return tuple(out)


PLUGIN = MeshLoadBalancingStrategy()
