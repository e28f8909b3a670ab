"""Proxy diffs on real Envoy protos (hand-built ProxyConfigs)."""

from __future__ import annotations

import json

from envoy.config.cluster.v3 import cluster_pb2 as envoy_cluster
from envoy.config.listener.v3 import listener_pb2 as envoy_listener
from envoy.config.route.v3 import route_components_pb2 as envoy_route_components
from envoy.config.route.v3 import route_pb2 as envoy_route
from envoy.extensions.transport_sockets.tls.v3 import secret_pb2 as envoy_secret
from google.protobuf.json_format import MessageToJson

from reconciler.diff import Action, ChangeSet, FieldChange, diff_proxies, proto_json
from reconciler.diff.fields import MASK, MISSING
from reconciler.resource_types import ProxyConfig, TypeUrl


def route_config(timeout_s: int, *, cluster: str = "backend") -> envoy_route.RouteConfiguration:
    rc = envoy_route.RouteConfiguration(name="outbound:backend")
    vh = rc.virtual_hosts.add(name="backend", domains=["*"])
    vh.routes.add(match=envoy_route_components.RouteMatch(prefix="/api"))
    route = vh.routes.add(match=envoy_route_components.RouteMatch(prefix="/"))
    route.route.cluster = cluster
    route.route.timeout.FromSeconds(timeout_s)
    return rc


def cluster(name: str, connect_timeout_s: int = 5) -> envoy_cluster.Cluster:
    c = envoy_cluster.Cluster(name=name, type=envoy_cluster.Cluster.EDS)
    c.connect_timeout.FromSeconds(connect_timeout_s)
    return c


def proxy(node_id: str, *messages: object) -> ProxyConfig:
    config = ProxyConfig(node_id)
    by_type = {
        envoy_route.RouteConfiguration: TypeUrl.ROUTE,
        envoy_cluster.Cluster: TypeUrl.CLUSTER,
        envoy_listener.Listener: TypeUrl.LISTENER,
        envoy_secret.Secret: TypeUrl.SECRET,
    }
    for m in messages:
        config.resources.setdefault(by_type[type(m)], []).append(m)
    return config


def test_proto_json_matches_message_to_json() -> None:
    rc = route_config(10)
    assert proto_json(rc) == json.loads(MessageToJson(rc, preserving_proto_field_name=True))


def test_route_timeout_change_is_one_field_with_full_path() -> None:
    before = {"default.web-1": proxy("default.web-1", route_config(10), cluster("backend"))}
    after = {"default.web-1": proxy("default.web-1", route_config(20), cluster("backend"))}
    changes, unchanged = diff_proxies(before, after)
    assert unchanged == []
    (p,) = changes
    assert p.node_id == "default.web-1" and p.action is Action.CONFIGURED
    (res,) = p.resources
    assert (res.type_url, res.name, res.action) == (
        TypeUrl.ROUTE,
        "outbound:backend",
        Action.CONFIGURED,
    )
    assert res.fields == (FieldChange("virtual_hosts[0].routes[1].route.timeout", "10s", "20s"),)


def test_created_deleted_and_unchanged_proxies() -> None:
    before = {
        "default.a": proxy("default.a", cluster("x")),
        "default.gone": proxy("default.gone", cluster("x")),
    }
    after = {
        "default.a": proxy("default.a", cluster("x")),
        "default.new": proxy("default.new", cluster("x"), route_config(1)),
    }
    changes, unchanged = diff_proxies(before, after)
    assert unchanged == ["default.a"]
    assert [(p.node_id, p.action) for p in changes] == [
        ("default.gone", Action.DELETED),
        ("default.new", Action.CREATED),
    ]
    new = changes[1]
    # listeners and routes first, then clusters (reading order)
    assert [(r.type_url.short, r.name, r.action) for r in new.resources] == [
        ("RDS", "outbound:backend", Action.CREATED),
        ("CDS", "x", Action.CREATED),
    ]
    assert all(r.fields == () for r in new.resources)


def test_resources_added_and_removed_within_a_proxy() -> None:
    before = {"m.p": proxy("m.p", cluster("a"), cluster("b"))}
    after = {"m.p": proxy("m.p", cluster("b", 7), cluster("c"))}
    (p,), _ = diff_proxies(before, after)
    assert [(r.name, r.action) for r in p.resources] == [
        ("a", Action.DELETED),
        ("b", Action.CONFIGURED),
        ("c", Action.CREATED),
    ]
    assert p.resources[1].fields == (FieldChange("connect_timeout", "5s", "7s"),)


def test_secret_values_are_masked() -> None:
    def secret(key: bytes) -> envoy_secret.Secret:
        s = envoy_secret.Secret(name="identity_cert:secret:default")
        s.tls_certificate.private_key.inline_bytes = key
        return s

    (p,), _ = diff_proxies(
        {"m.p": proxy("m.p", secret(b"old-key"))}, {"m.p": proxy("m.p", secret(b"new-key"))}
    )
    (field,) = p.resources[0].fields
    assert field.path == "tls_certificate.private_key.inline_bytes"
    assert (field.old, field.new) == (MASK, MASK)
    assert "a2V5" not in json.dumps(p.to_json())  # no base64 of the key material


def test_listener_any_typed_config_is_expanded() -> None:
    from envoy.extensions.filters.network.tcp_proxy.v3 import tcp_proxy_pb2 as envoy_tcp_proxy

    def listener(cluster_name: str) -> envoy_listener.Listener:
        lst = envoy_listener.Listener(name="outbound:127.0.0.1:10001")
        f = lst.filter_chains.add().filters.add(name="envoy.filters.network.tcp_proxy")
        f.typed_config.Pack(envoy_tcp_proxy.TcpProxy(stat_prefix="db", cluster=cluster_name))
        return lst

    (p,), _ = diff_proxies(
        {"m.p": proxy("m.p", listener("db"))}, {"m.p": proxy("m.p", listener("db-v2"))}
    )
    assert p.resources[0].fields == (
        FieldChange("filter_chains[0].filters[0].typed_config.cluster", "db", "db-v2"),
    )


def test_changeset_json_round_trip() -> None:
    from reconciler.diff import Partial, diff_revisions
    from reconciler.model import ResourceKey

    cs = diff_revisions(
        sources=((), ()),
        proxies=({"m.p": proxy("m.p", route_config(1))}, {"m.p": proxy("m.p", route_config(2))}),
        partial=Partial((ResourceKey("MeshTimeout", "default", "t"),), ("bad.yaml",)),
        base="aaa",
        head="bbb",
    )
    data = json.loads(json.dumps(cs.to_json()))
    assert data["version"] == 1
    assert data["summary"]["proxies"] == {
        "created": 0,
        "configured": 1,
        "deleted": 0,
        "unchanged": 0,
    }
    assert data["proxies"][0]["resources"][0]["type"] == "RDS"
    assert ChangeSet.from_json(data) == cs
    assert MISSING is not None
