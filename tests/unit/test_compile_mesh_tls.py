"""MeshTLS, as Kuma 2.14's ``meshtls/plugin/v1alpha1/plugin.go`` applies it (universal, no
workload identity): only with mesh mTLS; the conf's mode before the Mesh backend's
(``getMeshTLSMode``); versions and ciphers on the mesh mTLS chain (``ServerSideMTLS``) and on
every mesh cluster of the proxy (``configureTLSParams``), never on an external service."""

from __future__ import annotations

from typing import Any

from reconciler.resource_types import TypeUrl
from tests.unit.test_compile_core import compile_yaml, named

MTLS_MESH = """
type: Mesh
name: default
mtls:
  enabledBackend: ca-1
  backends: [{name: ca-1, type: builtin}]
"""
DATAPLANES = """
type: Dataplane
mesh: default
name: api-1
networking:
  address: 127.0.0.3
  inbound:
    - port: 8080
      tags: {kuma.io/service: api, kuma.io/protocol: http}
---
type: Dataplane
mesh: default
name: web-1
networking:
  address: 127.0.0.2
  inbound:
    - port: 8080
      tags: {kuma.io/service: web, kuma.io/protocol: http}
  outbound:
    - {port: 10001, tags: {kuma.io/service: api}}
    - {port: 10002, backendRef: {kind: MeshExternalService, name: ext}}
---
type: MeshExternalService
name: ext
mesh: default
spec:
  match: {type: HostnameGenerator, port: 443, protocol: http}
  endpoints: [{address: ext.example.com, port: 443}]
  tls: {enabled: true}
"""


def mesh_tls(target: str, default: str, name: str = "tls") -> str:
    return f"""
type: MeshTLS
name: {name}
mesh: default
spec:
  targetRef: {target}
  from:
    - targetRef: {{kind: Mesh}}
      default: {default}
"""


def tls_context(socket: dict[str, Any]) -> dict[str, Any]:
    return dict(socket["transport_socket"]["typed_config"]["common_tls_context"])


def test_versions_and_ciphers_on_inbound_chain_and_mesh_clusters_only() -> None:
    policy = mesh_tls(
        "{kind: Mesh}",
        "{tlsVersion: {min: TLS12, max: TLSAuto}, tlsCiphers: [ECDHE-RSA-AES256-GCM-SHA384]}",
    )
    config = compile_yaml(MTLS_MESH, DATAPLANES, policy).configs["default.web-1"]
    inbound = named(config, TypeUrl.LISTENER, "inbound:127.0.0.2:8080")
    params = tls_context(inbound["filter_chains"][0])["tls_params"]
    # TLSAuto is Envoy's TLS_AUTO, the proto default: rendered as absent
    assert params == {
        "tls_minimum_protocol_version": "TLSv1_2",
        "cipher_suites": ["ECDHE-RSA-AES256-GCM-SHA384"],
    }
    assert tls_context(named(config, TypeUrl.CLUSTER, "api"))["tls_params"] == params
    external = named(config, TypeUrl.CLUSTER, "default_ext___extsvc_443")
    assert "tls_params" not in tls_context(external)


def test_mode_of_the_policy_wins_over_the_mesh_backend() -> None:
    policy = mesh_tls("{kind: Dataplane, name: api-1}", "{mode: Permissive}")
    result = compile_yaml(MTLS_MESH, DATAPLANES, policy)
    api = named(result.configs["default.api-1"], TypeUrl.LISTENER, "inbound:127.0.0.3:8080")
    web = named(result.configs["default.web-1"], TypeUrl.LISTENER, "inbound:127.0.0.2:8080")
    assert [
        c.get("filter_chain_match", {}).get("transport_protocol") for c in api["filter_chains"]
    ] == [
        "raw_buffer",
        "tls",
        "tls",
    ]
    assert len(web["filter_chains"]) == 1  # the Mesh's STRICT mode


def test_nothing_without_mesh_mtls() -> None:
    """Apply: "skip applying MeshTLS, mTLS is disabled"."""
    policy = mesh_tls("{kind: Mesh}", "{mode: Permissive, tlsVersion: {min: TLS13}}")
    config = compile_yaml("type: Mesh\nname: default\n", DATAPLANES, policy).configs[
        "default.api-1"
    ]
    inbound = named(config, TypeUrl.LISTENER, "inbound:127.0.0.3:8080")
    assert "transport_socket" not in inbound["filter_chains"][0]
