"""Mesh mTLS in compiled config: TLS on inbound listeners and mesh clusters, RBAC inbound.

Kuma 2.x shapes (``pkg/xds/envoy/tls``): inbound ``DownstreamTlsContext`` with
``require_client_certificate`` and a ``combined_validation_context`` (SAN prefix
``spiffe://<mesh>/`` + the ``mesh_ca:secret:<mesh>`` SDS secret), the proxy's certificate
from ``identity_cert:secret:<mesh>``; outbound clusters get an ``UpstreamTlsContext`` with
the exact SAN ``spiffe://<mesh>/<service>``, ALPN ``kuma`` and SNI ``<service>{mesh=<mesh>}``.
Secrets come over the same ADS stream. STRICT: only mTLS reaches the inbound. PERMISSIVE:
a TLS inspector picks the mTLS chain (with RBAC) or a plaintext chain (no RBAC, as Kuma).

The compiler's shared listeners and clusters are never modified: secured copies are made
once per distinct original within one mesh compile.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from envoy.config.cluster.v3 import cluster_pb2 as envoy_cluster
from envoy.config.listener.v3 import listener_components_pb2 as envoy_listener_components
from envoy.config.listener.v3 import listener_pb2 as envoy_listener
from envoy.extensions.filters.http.rbac.v3 import rbac_pb2 as envoy_http_rbac
from envoy.extensions.filters.listener.tls_inspector.v3 import tls_inspector_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as envoy_hcm,
)
from envoy.extensions.filters.network.rbac.v3 import rbac_pb2 as envoy_network_rbac
from envoy.extensions.transport_sockets.tls.v3 import common_pb2 as envoy_tls_common
from envoy.extensions.transport_sockets.tls.v3 import tls_pb2 as envoy_tls
from envoy.type.matcher.v3 import string_pb2 as envoy_string

from reconciler import codes, names
from reconciler.compile import permission_rules
from reconciler.compile import permissions as mtp
from reconciler.compile.inventory import Inbound, MeshIndex, Proxy, index_meshes
from reconciler.errors import CompileError
from reconciler.identity.backend import BackendError, MtlsBackend, MtlsMode, enabled_backend
from reconciler.identity.issuer import identity_uris
from reconciler.identity.sds import sds_secret_config
from reconciler.identity.spiffe import KUMA_ALPN, mesh_spiffe_prefix, spiffe_id
from reconciler.model import Kind, Resource
from reconciler.targetref import selected_inbounds

TLS_SOCKET = "envoy.transport_sockets.tls"
TLS_INSPECTOR = "envoy.filters.listener.tls_inspector"
HTTP_RBAC = "envoy.filters.http.rbac"
NETWORK_RBAC = "envoy.filters.network.rbac"
_SUBSET_SUFFIX = re.compile(r"^(?P<service>.+)-[0-9a-f]{16}$")

NOT_ENFORCED = (
    "MeshTrafficPermission is not enforced: the mesh has no mTLS backend enabled, and Kuma "
    "skips it without identities; all traffic is allowed"
)


def mesh_backend(index: MeshIndex) -> MtlsBackend | None:
    """The enabled mTLS backend of the mesh, or None; a CompileError when it is unusable."""
    if index.mesh is None:
        return None
    try:
        return enabled_backend(index.name, index.mesh.data)
    except BackendError as exc:
        raise CompileError(
            f"error[{codes.MTLS_BACKEND_UNSUPPORTED}] {exc.field}: {exc.message} "
            f"(Mesh {index.name})"
        ) from None


def _common(mesh: str, san: envoy_tls_common.SubjectAltNameMatcher) -> envoy_tls.CommonTlsContext:
    common = envoy_tls.CommonTlsContext()
    common.tls_certificate_sds_secret_configs.append(
        sds_secret_config(names.identity_cert_secret(mesh))
    )
    combined = common.combined_validation_context
    combined.default_validation_context.match_typed_subject_alt_names.append(san)
    combined.validation_context_sds_secret_config.CopyFrom(
        sds_secret_config(names.mesh_ca_secret(mesh))
    )
    return common


def _uri_san(**match: str) -> envoy_tls_common.SubjectAltNameMatcher:
    return envoy_tls_common.SubjectAltNameMatcher(
        san_type=envoy_tls_common.SubjectAltNameMatcher.URI,
        matcher=envoy_string.StringMatcher(**match),
    )


def downstream_tls_context(mesh: str) -> envoy_tls.DownstreamTlsContext:
    out = envoy_tls.DownstreamTlsContext(
        common_tls_context=_common(mesh, _uri_san(prefix=mesh_spiffe_prefix(mesh)))
    )
    out.require_client_certificate.value = True
    return out


def upstream_tls_context(mesh: str, service: str | None) -> envoy_tls.UpstreamTlsContext:
    san = (
        _uri_san(exact=spiffe_id(mesh, service))
        if service
        else _uri_san(prefix=mesh_spiffe_prefix(mesh))
    )
    common = _common(mesh, san)
    common.alpn_protocols.extend(KUMA_ALPN)
    out = envoy_tls.UpstreamTlsContext(common_tls_context=common)
    if service:
        out.sni = f"{service}{{mesh={mesh}}}"
    return out


def destination_tls_context(
    mesh: str, identities: Sequence[str], sni: str
) -> envoy_tls.UpstreamTlsContext:
    """A MeshService port's cluster (Kuma ``ClientSideMultiIdentitiesMTLS``): the peer's
    certificate carries one of the service's ``identities`` (any of the mesh without them),
    the SNI is Kuma's ``SniForBackendRef``."""
    sans = [_uri_san(exact=i) for i in identities] or [_uri_san(prefix=mesh_spiffe_prefix(mesh))]
    common = _common(mesh, sans[0])
    validation = common.combined_validation_context.default_validation_context
    validation.match_typed_subject_alt_names.extend(sans[1:])
    common.alpn_protocols.extend(KUMA_ALPN)
    return envoy_tls.UpstreamTlsContext(common_tls_context=common, sni=sni)


class MeshMtls:
    """Secures the compiled resources of one mTLS mesh; memoised per original object."""

    def __init__(self, index: MeshIndex, backend: MtlsBackend, policies: Sequence[Resource]):
        self.index = index
        self.backend = backend
        self.mesh = index.name
        self.policies = list(policies)
        self._clusters: dict[int, tuple[Any, envoy_cluster.Cluster]] = {}
        self._listeners: dict[tuple[Any, ...], tuple[Any, envoy_listener.Listener]] = {}

    def permissions(
        self, proxy: Proxy, inbound: Inbound, candidates: Sequence[Resource] | None = None
    ) -> list[mtp.FromEntry]:
        """``from[]`` entries that apply to ``inbound``, in the order they are decided.

        ``candidates``: the permissions already known to select ``proxy`` (sorted), so a
        proxy does not test every permission of the mesh.
        """
        pool = self.policies if candidates is None else candidates
        chosen = [p for p in pool if inbound.index in selected_inbounds(_ref(p), proxy.resource)]
        return mtp.from_entries(chosen)

    def rules(
        self, proxy: Proxy, inbound: Inbound, candidates: Sequence[Resource] | None = None
    ) -> list[permission_rules.PermissionRule]:
        """``rules[]`` of the permissions selecting ``inbound`` (empty: the from[] path)."""
        pool = self.policies if candidates is None else candidates
        chosen = [p for p in pool if inbound.index in selected_inbounds(_ref(p), proxy.resource)]
        return permission_rules.inbound_rules(chosen)

    def inbound(
        self,
        listener: envoy_listener.Listener,
        proxy: Proxy,
        inbound: Inbound,
        candidates: Sequence[Resource] | None = None,
        mode: MtlsMode | None = None,
    ) -> envoy_listener.Listener:
        """``mode``: the inbound's own mode (MeshTLS), else the Mesh backend's."""
        chosen_mode = mode or self.backend.mode
        pool = self.policies if candidates is None else candidates
        chosen = [p for p in pool if inbound.index in selected_inbounds(_ref(p), proxy.resource)]
        inbound_rules = permission_rules.inbound_rules(chosen)
        rbac: dict[str, Any]
        if inbound_rules:
            # Kuma Apply: with inbound rules the RBACConfigurer takes over, from[] is ignored
            matcher, shadow_matcher = permission_rules.rbac_matchers(inbound_rules)
            rbac = {"matcher": matcher, "shadow_matcher": shadow_matcher}
        else:
            rules, shadow = mtp.rbac_rules(self.mesh, mtp.subset_rules(mtp.from_entries(chosen)))
            rbac = {"rules": rules, "shadow_rules": shadow}
        inspector = bool(inbound_rules) and permission_rules.has_sni_match(inbound_rules)
        key = (
            id(listener),
            inspector,
            chosen_mode,
            tuple(
                (k, v.SerializeToString(deterministic=True) if v is not None else b"")
                for k, v in rbac.items()
            ),
        )
        hit = self._listeners.get(key)
        if hit is not None:
            return hit[1]
        out = secure_listener(listener, self.mesh, chosen_mode, rbac)
        if inspector and not any(f.name == TLS_INSPECTOR for f in out.listener_filters):
            _add_inspector(out)
        self._listeners[key] = (listener, out)
        return out

    def cluster(self, cluster: envoy_cluster.Cluster) -> envoy_cluster.Cluster:
        if cluster.type != envoy_cluster.Cluster.EDS:
            return cluster  # the local application cluster stays plaintext
        hit = self._clusters.get(id(cluster))
        if hit is not None:
            return hit[1]
        out = envoy_cluster.Cluster()
        out.CopyFrom(cluster)
        socket = out.transport_socket
        socket.name = TLS_SOCKET
        destination = self.index.destinations.get(cluster.name)
        context = (
            destination_tls_context(self.mesh, destination.identities, destination.sni)
            if destination is not None
            else upstream_tls_context(self.mesh, self._service_of(cluster.name))
        )
        socket.typed_config.Pack(context, deterministic=True)
        self._clusters[id(cluster)] = (cluster, out)
        return out

    def _service_of(self, cluster_name: str) -> str | None:
        if cluster_name in self.index.endpoints or cluster_name in self.index.protocols:
            return cluster_name
        match = _SUBSET_SUFFIX.match(cluster_name)
        return match.group("service") if match else None


def _ref(policy: Resource) -> dict[str, Any]:
    ref = policy.spec.get("targetRef")
    return ref if isinstance(ref, dict) else {"kind": "Mesh"}


def secure_listener(
    listener: envoy_listener.Listener,
    mesh: str,
    mode: MtlsMode,
    rbac: Mapping[str, Any],
) -> envoy_listener.Listener:
    """A copy of ``listener`` behind mesh mTLS, with an RBAC filter whose fields are
    ``rbac`` (``rules`` / ``shadow_rules``, or ``matcher`` / ``shadow_matcher``)."""
    out = envoy_listener.Listener()
    out.CopyFrom(listener)
    plain = envoy_listener_components.FilterChain()
    plain.CopyFrom(out.filter_chains[0])
    chain = out.filter_chains[0]
    chain.transport_socket.name = TLS_SOCKET
    chain.transport_socket.typed_config.Pack(downstream_tls_context(mesh), deterministic=True)
    _add_rbac(chain, listener.name, rbac)
    if mode is MtlsMode.PERMISSIVE:
        # Kuma: plaintext, the application's own TLS (passed through) and mesh mTLS (ALPN
        # ``kuma``, the only chain with RBAC), told apart by the TLS inspector.
        _add_inspector(out)
        mtls_chain = envoy_listener_components.FilterChain()
        mtls_chain.CopyFrom(chain)
        mtls_chain.filter_chain_match.transport_protocol = "tls"
        mtls_chain.filter_chain_match.application_protocols.extend(KUMA_ALPN)
        app_tls = envoy_listener_components.FilterChain()
        app_tls.CopyFrom(plain)
        app_tls.filter_chain_match.transport_protocol = "tls"
        plain.filter_chain_match.transport_protocol = "raw_buffer"
        del out.filter_chains[:]
        out.filter_chains.extend([plain, app_tls, mtls_chain])
    return out


def _add_inspector(listener: envoy_listener.Listener) -> None:
    inspector = listener.listener_filters.add()
    inspector.name = TLS_INSPECTOR
    inspector.typed_config.Pack(tls_inspector_pb2.TlsInspector(), deterministic=True)


def _fill(message: Any, rbac: Mapping[str, Any]) -> None:
    for field, value in rbac.items():
        if value is not None:
            getattr(message, field).CopyFrom(value)


def _add_rbac(chain: Any, stat_name: str, rbac: Mapping[str, Any]) -> None:
    network = chain.filters[-1]  # the HCM or tcp_proxy; other network filters come first
    hcm = envoy_hcm.HttpConnectionManager()
    if network.typed_config.Unpack(hcm):
        http = envoy_http_rbac.RBAC()
        _fill(http, rbac)
        rbac_filter = envoy_hcm.HttpFilter(name=HTTP_RBAC)
        rbac_filter.typed_config.Pack(http, deterministic=True)
        filters = [rbac_filter, *hcm.http_filters]
        del hcm.http_filters[:]
        hcm.http_filters.extend(filters)
        network.typed_config.Pack(hcm, deterministic=True)
        return
    network_rbac = envoy_network_rbac.RBAC(stat_prefix=f"{names.stat_prefix(stat_name)}.")
    _fill(network_rbac, rbac)
    first = envoy_listener_components.Filter(name=NETWORK_RBAC)
    first.typed_config.Pack(network_rbac, deterministic=True)
    filters = [first, *chain.filters]
    del chain.filters[:]
    chain.filters.extend(filters)


def mesh_mtls(index: MeshIndex, policies: dict[str, list[Resource]]) -> MeshMtls | None:
    backend = mesh_backend(index)
    if backend is None:
        return None
    return MeshMtls(index, backend, policies.get(Kind.MESH_TRAFFIC_PERMISSION, []))


def inline_secrets(bootstrap: Any, secrets: Callable[[], Sequence[Any]]) -> None:
    """Make a static bootstrap self-contained: SDS references become static secrets.

    ``envoy --mode validate`` cannot fetch SDS over ADS (and crashes on cluster SDS), so the
    references lose their ``sds_config`` and the secrets go to ``static_resources.secrets``.
    Only the bootstrap's own copies of listeners and EDS clusters are edited.
    """
    used: set[str] = set()
    for holder in [*bootstrap.static_resources.listeners, *bootstrap.static_resources.clusters]:
        if isinstance(holder, envoy_cluster.Cluster):
            sockets = [holder.transport_socket]
        else:
            sockets = [c.transport_socket for c in holder.filter_chains]
        for socket in sockets:
            if socket.name != TLS_SOCKET:
                continue
            for kind in (envoy_tls.DownstreamTlsContext, envoy_tls.UpstreamTlsContext):
                context = kind()
                if socket.typed_config.Unpack(context):
                    common = context.common_tls_context
                    for ref in common.tls_certificate_sds_secret_configs:
                        ref.ClearField("sds_config")
                        used.add(ref.name)
                    if common.HasField("combined_validation_context"):  # not external TLS
                        combined = common.combined_validation_context
                        ref = combined.validation_context_sds_secret_config
                        ref.ClearField("sds_config")
                        used.add(ref.name)
                    socket.typed_config.Pack(context, deterministic=True)
    if not used:
        return
    for secret in secrets():
        if secret.name in used:
            bootstrap.static_resources.secrets.append(secret)


def explain_permissions(
    resources: Sequence[Resource], node_id: str, source: dict[str, str]
) -> list[dict[str, Any]]:
    """For each inbound of ``node_id``: which MeshTrafficPermission entry decides for a
    caller with ``source`` tags, and the action (``inspect --source``)."""
    out: list[dict[str, Any]] = []
    for index in index_meshes(resources).values():
        proxy = next((p for p in index.proxies.values() if p.node_id == node_id), None)
        if proxy is None:
            continue
        secured = mesh_mtls(index, {k: list(v) for k, v in index.policies.items()})
        for inbound in proxy.inbounds:
            where = names.inbound_listener(inbound.address, inbound.port)
            if secured is None:
                out.append(
                    {"inbound": where, "action": "Allow", "decidedBy": None, "reason": NOT_ENFORCED}
                )
                continue
            by_rules = secured.rules(proxy, inbound)
            if by_rules:
                out.append(_explain_rules(where, index.name, by_rules, source))
                continue
            decided = mtp.decide(secured.permissions(proxy, inbound), source)
            if decided is None:
                out.append(
                    {
                        "inbound": where,
                        "action": "Deny",
                        "decidedBy": None,
                        "reason": "no MeshTrafficPermission entry matches this source; "
                        "with mTLS on, Kuma 2.14 denies",
                    }
                )
                continue
            pos = decided.policy.locate((*decided.policy.spec_path, "from", decided.index))
            out.append(
                {
                    "inbound": where,
                    "action": decided.action,
                    "decidedBy": decided.where,
                    "at": f"{decided.policy.file}:{pos.line}:{pos.col}",
                    "reason": "the last matching from[] entry in Kuma order decides",
                }
            )
    return out


def _explain_rules(
    where: str, mesh: str, rules: Sequence[permission_rules.PermissionRule], source: dict[str, str]
) -> dict[str, Any]:
    uri_san = ",".join(identity_uris(mesh, [source]))
    action, rule = permission_rules.decide(rules, uri_san)
    if rule is None:
        return {
            "inbound": where,
            "action": "Deny",
            "decidedBy": None,
            "reason": f"no rules[] match on the peer URI SAN {uri_san!r}: the default deny",
        }
    pos = rule.policy.locate((*rule.policy.spec_path, "rules", rule.index))
    return {
        "inbound": where,
        "action": action,
        "decidedBy": f"{rule.policy.kind} {rule.policy.mesh}/{rule.policy.name} rules[{rule.index}]",
        "at": f"{rule.policy.file}:{pos.line}:{pos.col}",
        "reason": "rules[] match the peer URI SAN, deny lists first (from[] is ignored)",
    }


def permission_notes(secured: MeshMtls | None, policies: Sequence[Resource]) -> list[str]:
    """What of the MeshTrafficPermissions selecting a proxy is not enforced, and why."""
    if not policies:
        return []
    if secured is None:
        return [f"{NOT_ENFORCED} (selected by {', '.join(p.name for p in policies)})"]
    notes: list[str] = []
    for policy in policies:
        if policy.spec.get("from") and any(p.spec.get("rules") for p in policies):
            notes.append(
                f"MeshTrafficPermission {policy.name}: from[] is ignored on the inbounds "
                "a MeshTrafficPermission with rules[] also selects (Kuma 2.14 then builds "
                "RBAC from rules[] only)"
            )
        entries = policy.spec.get("from")
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            ref = entry.get("targetRef") if isinstance(entry, dict) else None
            if mtp.entry_tags(ref if isinstance(ref, dict) else {"kind": "Mesh"}) is None:
                kind = ref.get("kind") if isinstance(ref, dict) else None
                notes.append(
                    f"MeshTrafficPermission {policy.name}: from[{i}] targetRef kind {kind} "
                    "cannot be matched on a peer identity; this entry has no effect"
                )
    return notes
