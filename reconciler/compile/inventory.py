"""The mesh as the compiler sees it: proxies, services, endpoints and policies, indexed once.

Built from valid resources only. Protocol of a service = the ``kuma.io/protocol`` tag of its
inbounds; ``tcp`` when absent or when the providers disagree (Kuma falls back to TCP).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from reconciler import names
from reconciler.compile import mesh_services as ms
from reconciler.kinds import POLICY_KINDS
from reconciler.model import DEFAULT_MESH, Kind, Resource
from reconciler.targetref import PROTOCOL_TAG, SERVICE_TAG, inbound_tags, inbounds

HTTP_PROTOCOLS = frozenset({"http", "http2", "grpc"})
PROTOCOLS = frozenset({"tcp", "http", "http2", "grpc"})
DEFAULT_OUTBOUND_ADDRESS = "127.0.0.1"
DEFAULT_SERVICE_ADDRESS = "127.0.0.1"
DEFAULT_ADMIN_PORT = 9901
"""Kuma's default Envoy admin port (and ``reconciler bootstrap --admin-port``'s)."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One inbound of one Dataplane, as an upstream of its service."""

    address: str
    port: int
    tags: Mapping[str, str]
    dataplane: str


@dataclass(frozen=True, slots=True)
class Inbound:
    index: int
    address: str
    port: int
    service_port: int
    service_address: str
    service: str
    protocol: str
    tags: Mapping[str, str]
    name: str | None


@dataclass(frozen=True, slots=True)
class Outbound:
    index: int
    address: str
    port: int
    service: str
    """The ``kuma.io/service`` tag; for a ``backendRef`` outbound, the destination's key
    once resolved (:func:`resolve_outbound`), empty before."""
    backend_ref: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Proxy:
    """One Dataplane, normalised."""

    resource: Resource
    mesh: str
    name: str
    address: str
    inbounds: tuple[Inbound, ...]
    outbounds: tuple[Outbound, ...]
    node_id: str
    """Envoy node id ``<mesh>.<name>``."""
    admin_port: int = DEFAULT_ADMIN_PORT
    """``networking.admin.port``: Envoy's admin listens on 127.0.0.1 there."""


@dataclass(slots=True)
class MeshIndex:
    """Everything of one mesh the compiler needs."""

    name: str
    mesh: Resource | None
    proxies: dict[str, Proxy] = field(default_factory=dict)
    endpoints: dict[str, list[Endpoint]] = field(default_factory=lambda: defaultdict(list))
    protocols: dict[str, str] = field(default_factory=dict)
    policies: dict[str, list[Resource]] = field(default_factory=lambda: defaultdict(list))
    resources: dict[str, list[Resource]] = field(default_factory=lambda: defaultdict(list))
    """Resources of the mesh that are neither policies nor proxies (MeshService, ...), by kind."""
    destinations: dict[str, ms.Destination] = field(default_factory=dict)
    """MeshService ports and MeshExternalServices by their Kuma destination name."""
    hostnames: dict[str, list[str]] = field(default_factory=dict)
    """Hostnames HostnameGenerators give each destination's service (by destination key)."""

    def protocol(self, service: str) -> str:
        return self.protocols.get(service, "tcp")


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def proxy_of(dataplane: Resource) -> Proxy:
    networking = dataplane.data.get("networking")
    net: Mapping[str, Any] = networking if isinstance(networking, dict) else {}
    address = str(net.get("address", DEFAULT_SERVICE_ADDRESS))
    ins: list[Inbound] = []
    for i, raw in enumerate(inbounds(dataplane)):
        tags = {str(k): str(v) for k, v in inbound_tags(raw).items()}
        port = _int(raw.get("port"))
        protocol = tags.get(PROTOCOL_TAG) or str(raw.get("protocol") or "tcp")
        ins.append(
            Inbound(
                index=i,
                address=str(raw.get("address") or address),
                port=port,
                service_port=_int(raw.get("servicePort"), port),
                service_address=str(raw.get("serviceAddress") or DEFAULT_SERVICE_ADDRESS),
                service=tags.get(SERVICE_TAG, ""),
                protocol=protocol if protocol in PROTOCOLS else "tcp",
                tags=tags,
                name=raw.get("name") if isinstance(raw.get("name"), str) else None,
            )
        )
    outs: list[Outbound] = []
    raw_outs = net.get("outbound")
    for i, raw in enumerate(raw_outs if isinstance(raw_outs, list) else []):
        if not isinstance(raw, dict):
            continue
        out_tags = raw.get("tags")
        service = out_tags.get(SERVICE_TAG) if isinstance(out_tags, dict) else None
        backend_ref = raw.get("backendRef")
        if not isinstance(service, str) and not isinstance(backend_ref, dict):
            continue
        outs.append(
            Outbound(
                index=i,
                address=str(raw.get("address") or DEFAULT_OUTBOUND_ADDRESS),
                port=_int(raw.get("port")),
                service=service if isinstance(service, str) else "",
                backend_ref=backend_ref if isinstance(backend_ref, dict) else None,
            )
        )
    mesh = dataplane.mesh or DEFAULT_MESH
    return Proxy(
        node_id=names.node_id(mesh, dataplane.name),
        resource=dataplane,
        mesh=mesh,
        name=dataplane.name,
        address=address,
        inbounds=tuple(ins),
        outbounds=tuple(outs),
        admin_port=_int(_map(net.get("admin")).get("port")) or DEFAULT_ADMIN_PORT,
    )


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def index_meshes(
    resources: Iterable[Resource], reuse: Callable[[Resource], Proxy | None] | None = None
) -> dict[str, MeshIndex]:
    """One :class:`MeshIndex` per mesh named by a Mesh resource or used by a resource.

    ``reuse`` may return the :class:`Proxy` of an unchanged Dataplane from a previous index.
    """
    meshes: dict[str, MeshIndex] = {}

    def mesh_of(name: str) -> MeshIndex:
        if name not in meshes:
            meshes[name] = MeshIndex(name=name, mesh=None)
        return meshes[name]

    protocol_votes: dict[tuple[str, str], set[str]] = defaultdict(set)
    for resource in resources:
        if resource.kind == Kind.MESH:
            mesh_of(resource.name).mesh = resource
        elif resource.kind == Kind.DATAPLANE:
            proxy = (reuse(resource) if reuse is not None else None) or proxy_of(resource)
            index = mesh_of(proxy.mesh)
            index.proxies[proxy.name] = proxy
            for inbound in proxy.inbounds:
                if not inbound.service:
                    continue
                index.endpoints[inbound.service].append(
                    Endpoint(proxy.address, inbound.port, inbound.tags, proxy.name)
                )
                protocol_votes[(proxy.mesh, inbound.service)].add(inbound.protocol)
        elif resource.kind in POLICY_KINDS:
            mesh_of(resource.mesh or DEFAULT_MESH).policies[resource.kind].append(resource)
        elif resource.mesh is not None:
            mesh_of(resource.mesh).resources[resource.kind].append(resource)
    for (mesh, service), votes in protocol_votes.items():
        meshes[mesh].protocols[service] = votes.pop() if len(votes) == 1 else "tcp"
    for index in meshes.values():
        _index_destinations(index)
        for eps in index.endpoints.values():
            eps.sort(key=lambda e: (e.address, e.port, e.dataplane))
    return meshes


def _index_destinations(index: MeshIndex) -> None:
    """MeshService ports (written, or generated by ``meshServices.mode``) and
    MeshExternalServices: their destinations, endpoints and protocols."""
    written = [ms.written_service(r) for r in index.resources.get(ms.MESH_SERVICE, ())]
    services = list(written)
    if ms.mode_of(index.mesh) != "Disabled":
        dataplanes = [p.resource for p in index.proxies.values()]
        services.extend(ms.generated_services(index.name, dataplanes, (s.name for s in written)))
    proxies = sorted(index.proxies.values(), key=lambda p: p.name)
    for service in sorted(services, key=lambda s: s.name):
        for destination, port in ms.mesh_service_destinations(service):
            index.destinations[destination.key] = destination
            index.protocols[destination.key] = (
                destination.protocol if destination.protocol in PROTOCOLS else "tcp"
            )
            found = index.endpoints[destination.key]
            for proxy in proxies:
                for inbound in proxy.inbounds:
                    raw = {"tags": inbound.tags, "port": inbound.port, "name": inbound.name}
                    if ms.selects_inbound(service.spec, proxy.resource, raw) and (
                        ms.target_port_matches(port, raw)
                    ):
                        found.append(
                            Endpoint(proxy.address, inbound.port, inbound.tags, proxy.name)
                        )
    for resource in sorted(index.resources.get(ms.MESH_EXTERNAL_SERVICE, ()), key=_name):
        external = ms.external_destination(resource)
        if external is not None:
            index.destinations[external.key] = external
            index.protocols[external.key] = (
                external.protocol if external.protocol in PROTOCOLS else "tcp"
            )


def _name(resource: Resource) -> str:
    return resource.name


def resolve_outbound(index: MeshIndex, outbound: Outbound) -> tuple[Outbound | None, str]:
    """A ``backendRef`` outbound bound to its destination's key (or None and why not)."""
    if outbound.backend_ref is None:
        return outbound, ""
    destination, why = ms.resolve_backend_ref(
        outbound.backend_ref, list(index.destinations.values())
    )
    if destination is None:
        return None, why
    return replace(outbound, service=destination.key), ""
