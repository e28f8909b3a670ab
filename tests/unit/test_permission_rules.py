"""MeshTrafficPermission ``rules[]``: RBAC matchers on the peer SPIFFE ID, as Kuma 2.14's
``meshtrafficpermission/xds/rbac_configurer.go`` (``createMatcher``, ``createShadowMatcher``)
and ``pkg/envoy/builders/xds/matchers`` build them; ``plugin.go`` ``Apply`` uses them (and
ignores ``from[]``) when a policy selecting the inbound has ``rules[]``."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format
from test_identity_mtls import BASE, http_rbac, inbound, load, mesh, permission

from reconciler.compile.kri import kri

RULES = """
type: MeshTrafficPermission
mesh: default
name: by-identity
spec:
  targetRef: {kind: MeshService, name: backend}
  rules:
    - default:
        deny:
          - spiffeID: {type: Exact, value: spiffe://default/db}
        allow:
          - spiffeID: {type: Prefix, value: spiffe://default/web}
          - spiffeID: {type: Exact, value: spiffe://default/api}
        allowWithShadowDeny:
          - spiffeID: {type: Exact, value: spiffe://default/legacy}
"""
URI_SAN = {
    "name": "envoy.matching.inputs.uri_san",
    "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.matching.common_inputs.ssl.v3.UriSanInput"
    },
}


def action(name: str, kind: str | None) -> dict[str, Any]:
    config: dict[str, Any] = {
        "@type": "type.googleapis.com/envoy.config.rbac.v3.Action",
        "name": name,
    }
    if kind is not None:
        config["action"] = kind  # ALLOW is the zero value: not printed
    return {"action": {"name": "envoy.filters.rbac.action", "typed_config": config}}


def single(match: dict[str, str]) -> dict[str, Any]:
    return {"single_predicate": {"input": URI_SAN, "value_match": match}}


def as_dict(message: Any) -> dict[str, Any]:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def test_rules_become_deny_then_allow_field_matchers_on_the_uri_san() -> None:
    listener = inbound("default.backend-01", mesh(), *BASE, RULES)
    rbac = http_rbac(listener)
    assert rbac is not None and not rbac.HasField("rules")
    name = "kri_mtp_default___by-identity_"
    assert as_dict(rbac.matcher) == {
        "matcher_list": {
            "matchers": [
                {
                    "predicate": single({"exact": "spiffe://default/db"}),
                    "on_match": action(name, "DENY"),
                },
                {
                    "predicate": {
                        "or_matcher": {
                            "predicate": [
                                single({"prefix": "spiffe://default/web"}),
                                single({"exact": "spiffe://default/api"}),
                                single({"exact": "spiffe://default/legacy"}),
                            ]
                        }
                    },
                    "on_match": action(name, None),
                },
            ]
        },
        "on_no_match": action("default", "DENY"),
    }
    assert as_dict(rbac.shadow_matcher) == {
        "matcher_list": {
            "matchers": [
                {
                    "predicate": single({"exact": "spiffe://default/legacy"}),
                    "on_match": action(name, "DENY"),
                }
            ]
        },
        "on_no_match": action("default", "DENY"),
    }


def test_from_entries_are_ignored_where_rules_apply() -> None:
    """``Apply``: inbound rules present -> ``RBACConfigurer``; the legacy from[] RBAC is not
    built, so an allow-all from[] does not open the inbound."""
    allow_all = permission("allow-all", "{kind: Mesh}", ("{kind: Mesh}", "Allow"))
    rbac = http_rbac(inbound("default.backend-01", mesh(), *BASE, RULES, allow_all))
    assert rbac is not None and rbac.HasField("matcher") and not rbac.HasField("rules")
    # web has no rules[] policy: the legacy from[] RBAC allows everyone there
    web = http_rbac(inbound("default.web-01", mesh(), *BASE, RULES, allow_all))
    assert web is not None and web.HasField("rules") and not web.HasField("matcher")


def test_tcp_inbounds_get_the_network_rbac_with_matchers() -> None:
    rules = RULES.replace("name: backend", "name: db").replace("by-identity", "db-identity")
    listener = inbound("default.db-01", mesh(), *BASE, rules)
    network = listener.filter_chains[0].filters[0]
    assert network.name == "envoy.filters.network.rbac"
    assert "matcher" in as_dict(network)["typed_config"]


def test_kri_of_a_universal_policy() -> None:
    """``kri_<type>_<mesh>_<zone>_<namespace>_<name>_<section>`` with empty zone, namespace
    and section (Kuma's REST examples: ``kri_mtp_default___one_``)."""

    (policy,) = [r for r in load(mesh(), RULES) if r.kind == "MeshTrafficPermission"]
    assert kri(policy) == "kri_mtp_default___by-identity_"
