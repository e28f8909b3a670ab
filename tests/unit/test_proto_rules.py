"""Envoy's proto validation rules, checked in Python (``snapshot/proto_rules.py``).

No false alarm: every resource of every golden mesh (each accepted by ``envoy --mode
validate`` in ``tests/golden``) breaks no rule. And each kind of rule is caught.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from envoy.config.cluster.v3 import cluster_pb2 as envoy_cluster
from envoy.config.listener.v3 import listener_pb2 as envoy_listener
from envoy.config.route.v3 import route_components_pb2 as envoy_route
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as envoy_hcm,
)

from reconciler.pipeline import analyze_paths, compile_analysis
from reconciler.resource_types import TypeUrl
from reconciler.snapshot.proto_rules import violations

ROOT = Path(__file__).resolve().parents[2]
MESHES = [
    ROOT / "sample-repo",
    *sorted((ROOT / "reconciler" / "kinds").glob("*/golden/input.yaml")),
]


@pytest.mark.parametrize("source", MESHES, ids=[str(m.relative_to(ROOT)) for m in MESHES])
def test_generated_resources_break_no_rule(source: Path) -> None:
    result = compile_analysis(analyze_paths([source]))
    checked = 0
    for config in result.configs.values():
        for type_url in (TypeUrl.LISTENER, TypeUrl.CLUSTER, TypeUrl.ROUTE, TypeUrl.ENDPOINT):
            for message in config.of(type_url):
                assert list(violations(message)) == [], (config.node_id, message.name)
                checked += 1
    assert checked


def test_each_kind_of_rule_is_caught() -> None:
    cluster = envoy_cluster.Cluster(type=envoy_cluster.Cluster.STATIC)
    cluster.connect_timeout.FromSeconds(0)
    cluster.lb_policy = 77  # type: ignore[assignment]
    found = list(violations(cluster))
    assert "name: value '' length must be at least 1" in found
    assert "connectTimeout: duration 0s must be gt 0s" in found
    assert "lbPolicy: value 77 is not a defined LbPolicy" in found

    hcm = envoy_hcm.HttpConnectionManager(stat_prefix="x")
    assert "route_specifier: one of its fields is required" in list(violations(hcm))

    host = envoy_route.VirtualHost(name="h")
    assert "domains: at least 1 item(s) required, got 0" in list(violations(host))
    host.domains.append("*")
    host.routes.add()  # a route without a match
    assert "routes[0].match: value is required" in list(violations(host))

    listener = envoy_listener.Listener(name="l")
    chain = listener.filter_chains.add()
    chain.filters.add().typed_config.Pack(envoy_hcm.HttpConnectionManager())
    nested = list(violations(listener))
    assert any(v.startswith("filterChains[0].filters[0].typedConfig.") for v in nested), nested
