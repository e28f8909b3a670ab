"""Mesh mTLS and MeshTrafficPermission in compiled config (Kuma 2.14 semantics).

Each test names the Kuma behaviour it reproduces; goldens hold the TLS contexts and RBAC.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import Any

import yaml
from envoy.config.cluster.v3 import cluster_pb2 as envoy_cluster
from envoy.config.listener.v3 import listener_pb2 as envoy_listener
from envoy.extensions.filters.http.rbac.v3 import rbac_pb2 as envoy_http_rbac
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as envoy_hcm,
)
from envoy.extensions.filters.network.rbac.v3 import rbac_pb2 as envoy_network_rbac
from envoy.extensions.transport_sockets.tls.v3 import tls_pb2 as envoy_tls
from google.protobuf import json_format

from reconciler.compile import permissions as mtp
from reconciler.compile.compiler import compile_resources
from reconciler.compile.mtls import explain_permissions
from reconciler.load import SourceFile
from reconciler.model import Resource
from reconciler.pipeline import analyze
from reconciler.resource_types import TypeUrl

GOLDEN = Path(__file__).parents[1] / "golden" / "identity"

MESH = """
type: Mesh
name: default
mtls:
  enabledBackend: ca-1
  backends:
    - name: ca-1
      type: builtin{mode}
"""


def dataplane(name: str, address: str, service: str, protocol: str = "http", **tags: str) -> str:
    extra = "".join(f"\n          {k}: {v}" for k, v in tags.items())
    return f"""
type: Dataplane
mesh: default
name: {name}
networking:
  address: {address}
  inbound:
    - port: 8080
      servicePort: 18080
      tags:
          kuma.io/service: {service}
          kuma.io/protocol: {protocol}{extra}
  outbound:
    - port: 10001
      tags:
          kuma.io/service: backend
"""


def permission(name: str, target: str, *entries: tuple[str, str]) -> str:
    lines = "".join(
        f"\n    - targetRef: {ref}\n      default: {{ action: {action} }}"
        for ref, action in entries
    )
    return f"""
type: MeshTrafficPermission
mesh: default
name: {name}
spec:
  targetRef: {target}
  from:{lines}
"""


def load(*documents: str) -> list[Resource]:
    text = "\n---\n".join(textwrap.dedent(d).strip() for d in documents) + "\n"
    analysis = analyze([SourceFile("mesh.yaml", text.encode())])
    errors = [d.format_text() for d in analysis.diagnostics if d.severity == "error"]
    assert not errors, errors
    return list(analysis.resources)


def mesh(mode: str = "") -> str:
    return MESH.format(mode=f"\n      mode: {mode}" if mode else "")


BASE = (
    dataplane("web-01", "127.0.0.2", "web"),
    dataplane("backend-01", "127.0.0.3", "backend", version="v1"),
    dataplane("db-01", "127.0.0.4", "db", protocol="tcp"),
)


def inbound(node: str, *documents: str) -> envoy_listener.Listener:
    configs = compile_resources(load(*documents)).configs
    [listener] = [x for x in configs[node].of(TypeUrl.LISTENER) if x.name.startswith("inbound:")]
    return listener


def http_rbac(listener: envoy_listener.Listener, chain: int = 0) -> envoy_http_rbac.RBAC | None:
    hcm = envoy_hcm.HttpConnectionManager()
    assert listener.filter_chains[chain].filters[0].typed_config.Unpack(hcm)
    for f in hcm.http_filters:
        if f.name == "envoy.filters.http.rbac":
            out = envoy_http_rbac.RBAC()
            f.typed_config.Unpack(out)
            return out
    return None


def principals(rbac: Any) -> list[dict[str, Any]]:
    policy = rbac.rules.policies.get("MeshTrafficPermission")
    if policy is None:
        return []
    return [json_format.MessageToDict(p) for p in policy.principals]


def spiffe(service: str) -> dict[str, Any]:
    return {"authenticated": {"principalName": {"exact": f"spiffe://default/{service}"}}}


def test_mtls_on_and_no_permission_denies_everything_as_kuma_2_14() -> None:
    """Kuma 2.14 plugin ``Apply``: no MeshTrafficPermission for an inbound -> ``denyRules()``
    (RBAC ALLOW with no policy); Kuma creates no allow-all default for a new Mesh."""
    rbac = http_rbac(inbound("default.backend-01", mesh(), *BASE))
    assert rbac is not None
    assert rbac.rules.action == rbac.rules.ALLOW and not rbac.rules.policies


def test_service_allow_under_mesh_deny() -> None:
    target = "{ kind: MeshService, name: backend }"
    rbac = http_rbac(
        inbound(
            "default.backend-01",
            mesh(),
            *BASE,
            permission(
                "allow-web",
                target,
                ("{ kind: Mesh }", "Deny"),
                ("{ kind: MeshService, name: web }", "Allow"),
            ),
        )
    )
    assert rbac is not None and principals(rbac) == [spiffe("web")]


def test_mesh_allow_with_one_service_denied_uses_a_negation() -> None:
    target = "{ kind: Mesh }"
    rbac = http_rbac(
        inbound(
            "default.backend-01",
            mesh(),
            *BASE,
            permission(
                "all-but-db",
                target,
                ("{ kind: Mesh }", "Allow"),
                ("{ kind: MeshService, name: db }", "Deny"),
            ),
        )
    )
    assert rbac is not None and principals(rbac) == [{"notId": spiffe("db")}]


def test_the_most_specific_policy_decides_not_the_entry_count() -> None:
    """Kuma orders policies by top-level targetRef (Mesh < MeshService): the MeshService
    policy's entry is merged last for web, so it decides even though a Mesh policy allows."""
    resources = load(
        mesh(),
        *BASE,
        permission("mesh-wide", "{ kind: Mesh }", ("{ kind: MeshService, name: web }", "Allow")),
        permission(
            "backend-only",
            "{ kind: MeshService, name: backend }",
            ("{ kind: MeshService, name: web }", "Deny"),
        ),
    )
    rbac = http_rbac(
        inbound(
            "default.backend-01",
            mesh(),
            *BASE,
            permission(
                "mesh-wide", "{ kind: Mesh }", ("{ kind: MeshService, name: web }", "Allow")
            ),
            permission(
                "backend-only",
                "{ kind: MeshService, name: backend }",
                ("{ kind: MeshService, name: web }", "Deny"),
            ),
        )
    )
    assert rbac is not None and principals(rbac) == []
    policies = [r for r in resources if r.kind == "MeshTrafficPermission"]
    entries = mtp.from_entries(policies)
    decided = mtp.decide(entries, {"kuma.io/service": "web"})
    assert (
        decided is not None and decided.policy.name == "backend-only" and decided.action == "Deny"
    )
    assert mtp.decide(entries, {"kuma.io/service": "db"}) is None


def test_subset_tags_and_shadow_deny() -> None:
    target = "{ kind: MeshService, name: backend }"
    rbac = http_rbac(
        inbound(
            "default.backend-01",
            mesh(),
            *BASE,
            permission(
                "canary",
                target,
                (
                    "{ kind: MeshServiceSubset, name: web, tags: { version: v2 } }",
                    "AllowWithShadowDeny",
                ),
            ),
        )
    )
    assert rbac is not None
    both = {
        "andIds": {
            "ids": [
                spiffe("web"),
                {"authenticated": {"principalName": {"exact": "kuma://version/v2"}}},
            ]
        }
    }
    assert principals(rbac) == [both]
    assert json_format.MessageToDict(rbac.shadow_rules)["action"] == "DENY"


def test_tcp_inbound_gets_a_network_rbac_filter_first() -> None:
    listener = inbound("default.db-01", mesh(), *BASE)
    first = listener.filter_chains[0].filters[0]
    assert first.name == "envoy.filters.network.rbac"
    rbac = envoy_network_rbac.RBAC()
    first.typed_config.Unpack(rbac)
    assert not rbac.rules.policies and rbac.stat_prefix == "inbound_127.0.0.4_8080."


def test_strict_requires_client_certificates_and_permissive_adds_plaintext() -> None:
    strict = inbound("default.backend-01", mesh(), *BASE)
    assert len(strict.filter_chains) == 1 and not strict.listener_filters
    context = envoy_tls.DownstreamTlsContext()
    strict.filter_chains[0].transport_socket.typed_config.Unpack(context)
    assert context.require_client_certificate.value
    permissive = inbound("default.backend-01", mesh("PERMISSIVE"), *BASE)
    matches = [
        (c.filter_chain_match.transport_protocol, list(c.filter_chain_match.application_protocols))
        for c in permissive.filter_chains
    ]
    # Kuma: plaintext, the application's own TLS passed through, and mesh mTLS (ALPN kuma).
    assert matches == [("raw_buffer", []), ("tls", []), ("tls", ["kuma"])]
    assert permissive.listener_filters[0].name == "envoy.filters.listener.tls_inspector"
    assert [c.HasField("transport_socket") for c in permissive.filter_chains] == [
        False,
        False,
        True,
    ]
    assert http_rbac(permissive, 0) is None and http_rbac(permissive, 1) is None
    assert http_rbac(permissive, 2) is not None  # RBAC only on the mTLS chain


def test_without_mtls_permissions_are_reported_not_enforced() -> None:
    resources = load(
        "type: Mesh\nname: default",
        *BASE,
        permission("deny", "{ kind: Mesh }", ("{ kind: Mesh }", "Deny")),
    )
    config = compile_resources(resources).configs["default.backend-01"]
    [listener] = [x for x in config.of(TypeUrl.LISTENER) if x.name.startswith("inbound:")]
    assert http_rbac(listener) is None and not listener.filter_chains[0].HasField(
        "transport_socket"
    )
    assert any("not enforced" in n for n in config.notes)


def _render(message: Any) -> Any:
    return json.loads(json_format.MessageToJson(message, preserving_proto_field_name=True))


def test_tls_contexts_and_rbac_match_golden() -> None:
    documents = (
        mesh(),
        *BASE,
        permission(
            "allow-web",
            "{ kind: MeshService, name: backend }",
            ("{ kind: Mesh }", "Deny"),
            ("{ kind: MeshService, name: web }", "Allow"),
        ),
    )
    configs = compile_resources(load(*documents)).configs
    web = configs["default.web-01"]
    [cluster] = [c for c in web.of(TypeUrl.CLUSTER) if c.name == "backend"]
    assert cluster.type == envoy_cluster.Cluster.EDS
    listener = inbound("default.backend-01", *documents)
    tcp = inbound("default.db-01", *documents)
    rendered = {
        "inbound_backend_http_rbac": _render(http_rbac(listener)),
        "inbound_backend_transport_socket": _render(listener.filter_chains[0].transport_socket),
        "inbound_db_network_rbac": _render(tcp.filter_chains[0].filters[0]),
        "outbound_cluster_backend_transport_socket": _render(cluster.transport_socket),
    }
    text = yaml.safe_dump(rendered, sort_keys=True)
    path = GOLDEN / "mtls-strict.golden.yaml"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()
    upstream = envoy_tls.UpstreamTlsContext()
    cluster.transport_socket.typed_config.Unpack(upstream)
    assert list(upstream.common_tls_context.alpn_protocols) == ["kuma"]
    assert upstream.sni == "backend{mesh=default}"


def test_inspect_source_names_the_deciding_permission(tmp_path: Path) -> None:
    from reconciler.cli.inspect import InspectOptions, inspect

    documents = (
        mesh(),
        *BASE,
        permission(
            "allow-web",
            "{ kind: MeshService, name: backend }",
            ("{ kind: Mesh }", "Deny"),
            ("{ kind: MeshService, name: web }", "Allow"),
        ),
    )
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "mesh.yaml").write_text(
        "\n---\n".join(textwrap.dedent(d).strip() for d in documents) + "\n"
    )
    text, code = inspect(InspectOptions((str(repo),), "default.backend-01", "text", "web"))
    assert code == 0
    assert "Allow by MeshTrafficPermission default/allow-web from[1]" in text
    text, _ = inspect(InspectOptions((str(repo),), "default.backend-01", "json", "db"))
    [decision] = json.loads(text)["permissions"]
    assert decision["action"] == "Deny" and decision["decidedBy"].endswith("from[0]")
    text, _ = inspect(InspectOptions((str(repo),), "default.db-01", "text", "web"))
    assert "Deny: no MeshTrafficPermission entry matches" in text


def test_inspect_explains_permission_rules_on_the_peer_uri_san() -> None:
    """With rules[] Kuma 2.14 builds RBAC matchers on the peer URI SAN (``plugin.go``
    ``Apply``); ``explain_permissions`` evaluates them like Envoy: deny lists first."""
    rules = """
type: MeshTrafficPermission
mesh: default
name: by-spiffe
spec:
  targetRef: { kind: MeshService, name: backend }
  rules:
    - default:
        deny:
          - spiffeID: { type: Prefix, value: spiffe://default/db }
        allow:
          - spiffeID: { type: Prefix, value: spiffe://default/web }
"""
    resources = load(mesh(), *BASE, rules)
    [web] = explain_permissions(resources, "default.backend-01", {"kuma.io/service": "web"})
    assert web["action"] == "Allow" and web["decidedBy"].endswith("by-spiffe rules[0]")
    [db] = explain_permissions(resources, "default.backend-01", {"kuma.io/service": "db"})
    assert db["action"] == "Deny" and db["decidedBy"].endswith("rules[0]")
    [other] = explain_permissions(resources, "default.backend-01", {"kuma.io/service": "x"})
    assert other["action"] == "Deny" and other["decidedBy"] is None
