"""MeshLoadBalancingStrategy: each test names the Kuma 2.14 behaviour it reproduces
(``pkg/plugins/policies/meshloadbalancingstrategy/plugin``: ``lbconfigurer.go``,
``hashpolicyconfigurer.go``, ``getHashPolicies``)."""

from __future__ import annotations

from typing import Any

import pytest
from test_compile_core import MESH, compile_yaml, dataplane, named, route_action

from reconciler.compile.compiler import CompileResult
from reconciler.resource_types import TypeUrl

BARE_MESH = MESH + "skipCreatingInitialPolicies: ['*']\n"


def compiled(default: str, protocol: str = "http") -> CompileResult:
    policy = f"""
type: MeshLoadBalancingStrategy
name: lb
mesh: default
spec:
  targetRef: {{kind: Mesh}}
  to:
    - targetRef: {{kind: MeshService, name: api}}
      default:
{default}
"""
    return compile_yaml(
        BARE_MESH,
        dataplane("web-1", "127.0.0.2", "web", outbounds=[("api", 10001)]),
        dataplane("api-1", "127.0.0.3", "api", protocol=protocol),
        policy,
    )


def cluster(result: CompileResult) -> dict[str, Any]:
    return named(result.configs["default.web-1"], TypeUrl.CLUSTER, "api")


def hashes(result: CompileResult) -> list[dict[str, Any]]:
    return list(
        route_action(result.configs["default.web-1"], "api")["route"].get("hash_policy", [])
    )


@pytest.mark.parametrize(
    ("kind", "policy"),
    [("RoundRobin", None), ("Random", "RANDOM"), ("LeastRequest", "LEAST_REQUEST")],
)
def test_load_balancer_type_sets_lb_policy(kind: str, policy: str | None) -> None:
    """loadBalancer.type -> cluster lb_policy (ROUND_ROBIN is Envoy's default, so unset)."""
    got = cluster(compiled(f"        loadBalancer: {{type: {kind}}}"))
    assert got.get("lb_policy") == policy
    assert "least_request_lb_config" not in got


def test_least_request_config_only_with_its_fields() -> None:
    """LeastRequest: choice_count and active_request_bias (a runtime double's default)."""
    default = (
        "        loadBalancer:\n"
        "          type: LeastRequest\n"
        "          leastRequest: {choiceCount: 3, activeRequestBias: '1.5'}"
    )
    got = cluster(compiled(default))
    assert got["least_request_lb_config"] == {
        "choice_count": 3,
        "active_request_bias": {"default_value": 1.5},
    }


def test_ring_hash_config_and_route_hash_policies() -> None:
    """RingHash: ring sizes and hash function on the cluster, ringHash.hashPolicies on routes."""
    default = (
        "        loadBalancer:\n"
        "          type: RingHash\n"
        "          ringHash:\n"
        "            hashFunction: MurmurHash2\n"
        "            minRingSize: 64\n"
        "            maxRingSize: 1024\n"
        "            hashPolicies:\n"
        "              - {type: Header, header: {name: x-user}, terminal: true}\n"
        "              - {type: Cookie, cookie: {name: s, path: /, ttl: 1h}}\n"
        "              - {type: Connection, connection: {sourceIP: true}}\n"
        "              - {type: QueryParameter, queryParameter: {name: q}}\n"
        "              - {type: FilterState, filterState: {key: k}}"
    )
    result = compiled(default)
    got = cluster(result)
    assert got["lb_policy"] == "RING_HASH"
    assert got["ring_hash_lb_config"] == {
        "minimum_ring_size": "64",
        "maximum_ring_size": "1024",
        "hash_function": "MURMUR_HASH_2",
    }
    assert hashes(result) == [
        {"header": {"header_name": "x-user"}, "terminal": True},
        {"cookie": {"name": "s", "path": "/", "ttl": "3600s"}},
        {"connection_properties": {"source_ip": True}},
        {"query_parameter": {"name": "q"}},
        {"filter_state": {"key": "k"}},
    ]


def test_maglev_table_size_and_hash_policies() -> None:
    """Maglev: maglev_lb_config.table_size; maglev.hashPolicies on the routes."""
    default = (
        "        loadBalancer:\n"
        "          type: Maglev\n"
        "          maglev:\n"
        "            tableSize: 1021\n"
        "            hashPolicies: [{type: Header, header: {name: x-session}}]"
    )
    result = compiled(default)
    assert cluster(result)["maglev_lb_config"] == {"table_size": "1021"}
    assert hashes(result) == [{"header": {"header_name": "x-session"}}]


def test_top_level_hash_policies_win_over_nested_ones() -> None:
    """getHashPolicies: default.hashPolicies first, else those of the RingHash/Maglev type."""
    default = (
        "        hashPolicies: [{type: QueryParameter, queryParameter: {name: top}}]\n"
        "        loadBalancer: {type: RoundRobin}"
    )
    assert hashes(compiled(default)) == [{"query_parameter": {"name": "top"}}]


def test_hash_policies_of_other_types_are_not_used() -> None:
    """Nested hash policies count only for the chosen type (RingHash or Maglev)."""
    assert hashes(compiled("        loadBalancer: {type: Random}")) == []


def test_tcp_service_gets_the_cluster_config_only() -> None:
    """TCP outbounds have no routes: only the cluster's lb_policy changes."""
    default = (
        "        loadBalancer:\n"
        "          type: RingHash\n"
        "          ringHash: {hashPolicies: [{type: Connection, connection: {sourceIP: true}}]}"
    )
    result = compiled(default, "tcp")
    assert cluster(result)["lb_policy"] == "RING_HASH"
    assert "outbound:api" not in result.configs["default.web-1"].by_name().get(TypeUrl.ROUTE, {})


def test_locality_awareness_is_accepted_and_noted() -> None:
    """localityAwareness: no zones here, so it is ignored and the render notes say so."""
    result = compiled(
        "        loadBalancer: {type: Random}\n        localityAwareness: {disabled: true}"
    )
    notes = result.configs["default.web-1"].notes
    assert any("localityAwareness is accepted but ignored" in n for n in notes)
    assert cluster(result)["lb_policy"] == "RANDOM"
