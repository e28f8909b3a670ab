"""Real service resources as destinations: MeshService ports and MeshExternalServices.

Kuma 2.14 (``pkg/plugins/policies/core/xds/meshroute``) reaches a real resource through one
cluster per destination port, named by ``destinationname.MustResolve(false, dest, port)``:
``<mesh>_<name>_<namespace>_<zone>_<msvc|extsvc>_<port>`` (namespace and zone come from the
``k8s.kuma.io/namespace`` and ``kuma.io/zone`` labels, empty in a universal zone of its own).
That name is the destination's key everywhere in the compiler (cluster, route configuration
``outbound:<key>``, endpoints, protocol), as Kuma uses it as the outbound's service value.

* A MeshService port's endpoints are the inbounds of the Dataplanes its ``selector`` picks
  (``dataplaneTags`` on inbound tags, ``dataplaneRef`` by name, ``dataplaneLabels`` on the
  Dataplane's labels) whose port equals ``targetPort`` (a number; a name matches the inbound's
  ``name``; unset: the port itself). Its protocol is the port's ``appProtocol`` (``tcp``).
* A MeshExternalService has one destination, on ``match.port``, with ``spec.endpoints``.
* A ``to[]`` entry applies to a destination (Kuma ``outbound/resourcerules.go``
  ``isRelevant``): ``Mesh`` always; ``MeshService`` by ``name`` or ``labels`` and, with a
  ``sectionName``, only to the port whose name is that section (a port without ``name`` is
  named by its number); ``MeshExternalService`` by ``name`` or ``labels``.
* The Mesh's ``meshServices.mode`` (``Disabled`` by default): with ``Everywhere``,
  ``ReachableBackends`` or ``Exclusive`` Kuma's universal control plane generates one
  MeshService per ``kuma.io/service`` value (ports from the inbounds, identity the service
  tag); a MeshService written in the repository with the same name takes precedence.
* The modes differ, in Kuma 2.14 (``DataplaneProxyBuilder.resolveVIPOutbounds``), only in
  the outbounds generated per VIP under transparent proxying: ``Everywhere`` has the
  ``kuma.io/service`` VIPs and the MeshService/MeshExternalService ones; ``Exclusive`` drops
  the ``kuma.io/service`` VIPs (mesh context ``VIPOutbounds``); ``ReachableBackends`` gives a
  Dataplane MeshService/MeshExternalService VIP outbounds only for the entries of its
  ``transparentProxying.reachableBackends`` (none without the list). A Dataplane without
  transparent proxying gets its listed outbounds as written in every mode (``asOutbounds``):
  a ``tags`` outbound is the ``kuma.io/service`` destination (cluster ``<service>``, also
  under ``Exclusive``), a ``backendRef`` outbound the MeshService port or
  MeshExternalService destination. That is what this compiler builds; ``transparentProxying``,
  ``reachableBackends`` and ``reachableServices`` get RC320 warnings
  (``kinds/dataplane/not_applied.py``).
* A route's ``backendRefs`` entry of kind MeshExternalService, or MeshService with
  ``sectionName`` or ``port``, is a real resource (Kuma ``resolve.BackendRef``): its split
  goes to that destination's cluster (:func:`route_backend`; weight 1 by default, 0 drops it,
  an HTTP split keeps only http/http2/grpc ports). A MeshService by ``name`` alone stays the
  ``kuma.io/service`` of that name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.model import DEFAULT_MESH, Resource

MESH_SERVICE = "MeshService"
MESH_EXTERNAL_SERVICE = "MeshExternalService"
SHORT_NAMES = {MESH_SERVICE: "msvc", MESH_EXTERNAL_SERVICE: "extsvc"}
SNI_ABBREVIATIONS = {MESH_SERVICE: "ms", MESH_EXTERNAL_SERVICE: "mes"}
NAMESPACE_LABEL = "k8s.kuma.io/namespace"
ZONE_LABEL = "kuma.io/zone"
SERVICE_TAG = "kuma.io/service"
PROTOCOL_TAG = "kuma.io/protocol"
MODES = ("Disabled", "Everywhere", "ReachableBackends", "Exclusive")
GENERATED_LABEL = "kuma.io/managed-by"
GENERATOR = "meshservice-generator"


@dataclass(frozen=True, slots=True)
class Destination:
    """One port of a MeshService, or a MeshExternalService, as the compiler's service."""

    key: str
    kind: str
    name: str
    resource: Resource | None
    """None for a MeshService generated from ``kuma.io/service`` tags (meshServices.mode)."""
    labels: Mapping[str, str]
    port: int
    section: str
    protocol: str
    identities: tuple[str, ...]
    """SPIFFE IDs the upstream's certificate may carry (mesh mTLS; empty: the mesh's)."""
    sni: str


def destination_name(kind: str, mesh: str, name: str, labels: Mapping[str, str], port: int) -> str:
    """Kuma's legacy destination name (``destinationname.ResolveLegacyFromDestination``)."""
    namespace = labels.get(NAMESPACE_LABEL, "")
    zone = labels.get(ZONE_LABEL, "")
    return f"{mesh}_{name}_{namespace}_{zone}_{SHORT_NAMES[kind]}_{port}"


def sni_for_resource(kind: str, mesh: str, name: str, port: int) -> str:
    """Kuma's ``tls.SNIForResource``: an FNV-1a 64 hash of ``name;mesh;`` then the parts."""
    digest = _fnv1a64(f"{name};{mesh};".encode())
    return f"{digest:016x}.{name}.{port}.{mesh}.{SNI_ABBREVIATIONS[kind]}"


def _fnv1a64(data: bytes) -> int:
    value = 0xCBF29CE484222325
    for byte in data:
        value ^= byte
        value = (value * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


def mode_of(mesh: Resource | None) -> str:
    services = mesh.data.get("meshServices") if mesh is not None else None
    mode = services.get("mode") if isinstance(services, dict) else None
    return mode if isinstance(mode, str) and mode in MODES else "Disabled"


def _str_map(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def port_section(port: Mapping[str, Any]) -> str:
    """Kuma's ``Port.GetName()``: the port's name, or its number."""
    name = port.get("name")
    return name if isinstance(name, str) and name else str(port.get("port"))


def _identities(mesh: str, spec: Mapping[str, Any]) -> tuple[str, ...]:
    out: list[str] = []
    raw = spec.get("identities")
    for identity in raw if isinstance(raw, list) else ():
        if not isinstance(identity, dict) or not isinstance(identity.get("value"), str):
            continue
        if identity.get("type") == "ServiceTag":
            out.append(f"spiffe://{mesh}/{identity['value']}")
        elif identity.get("type") == "SpiffeID":
            out.append(identity["value"])
    return tuple(sorted(out))


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """A MeshService as the compiler reads it (written or generated)."""

    name: str
    mesh: str
    labels: Mapping[str, str]
    spec: Mapping[str, Any]
    resource: Resource | None


def mesh_service_destinations(service: ServiceSpec) -> list[tuple[Destination, Mapping[str, Any]]]:
    """One destination per port, with the port's raw entry."""
    out: list[tuple[Destination, Mapping[str, Any]]] = []
    ports = service.spec.get("ports")
    for port in ports if isinstance(ports, list) else ():
        number = _int(port.get("port")) if isinstance(port, dict) else None
        if number is None or not isinstance(port, dict):
            continue
        protocol = port.get("appProtocol")
        out.append(
            (
                Destination(
                    key=destination_name(
                        MESH_SERVICE, service.mesh, service.name, service.labels, number
                    ),
                    kind=MESH_SERVICE,
                    name=service.name,
                    resource=service.resource,
                    labels=service.labels,
                    port=number,
                    section=port_section(port),
                    protocol=protocol if isinstance(protocol, str) and protocol else "tcp",
                    identities=_identities(service.mesh, service.spec),
                    sni=sni_for_resource(MESH_SERVICE, service.mesh, service.name, number),
                ),
                port,
            )
        )
    return out


def external_destination(resource: Resource) -> Destination | None:
    mesh = resource.mesh or DEFAULT_MESH
    match = resource.spec.get("match")
    port = _int(match.get("port")) if isinstance(match, dict) else None
    if port is None or not isinstance(match, dict):
        return None
    protocol = match.get("protocol")
    labels = _str_map(resource.labels)
    return Destination(
        key=destination_name(MESH_EXTERNAL_SERVICE, mesh, resource.name, labels, port),
        kind=MESH_EXTERNAL_SERVICE,
        name=resource.name,
        resource=resource,
        labels=labels,
        port=port,
        section=str(port),
        protocol=protocol if isinstance(protocol, str) and protocol else "tcp",
        identities=(),
        sni=sni_for_resource(MESH_EXTERNAL_SERVICE, mesh, resource.name, port),
    )


def generated_services(
    mesh: str, dataplanes: Iterable[Resource], written: Iterable[str]
) -> list[ServiceSpec]:
    """Kuma's universal MeshService generator: one MeshService per ``kuma.io/service``.

    Ports come from the inbounds of that service (first inbound per port number), each
    with ``targetPort`` equal to the port and ``appProtocol`` from ``kuma.io/protocol``; the
    selector is the service tag, the identity the service tag.
    """
    taken = set(written)
    ports: dict[str, dict[int, dict[str, Any]]] = {}
    for dataplane in dataplanes:
        networking = dataplane.data.get("networking")
        inbound = networking.get("inbound") if isinstance(networking, dict) else None
        for raw in inbound if isinstance(inbound, list) else ():
            tags = _str_map(raw.get("tags")) if isinstance(raw, dict) else {}
            service = tags.get(SERVICE_TAG)
            number = _int(raw.get("port")) if isinstance(raw, dict) else None
            if not service or number is None or service in taken:
                continue
            entry: dict[str, Any] = {
                "port": number,
                "targetPort": number,
                "appProtocol": tags.get(PROTOCOL_TAG, "tcp"),
            }
            ports.setdefault(service, {}).setdefault(number, entry)
    return [
        ServiceSpec(
            name=service,
            mesh=mesh,
            labels={GENERATED_LABEL: GENERATOR},
            spec={
                "selector": {"dataplaneTags": {SERVICE_TAG: service}},
                "ports": [by_port[n] for n in sorted(by_port)],
                "identities": [{"type": "ServiceTag", "value": service}],
            },
            resource=None,
        )
        for service, by_port in sorted(ports.items())
    ]


def written_service(resource: Resource) -> ServiceSpec:
    return ServiceSpec(
        name=resource.name,
        mesh=resource.mesh or DEFAULT_MESH,
        labels=_str_map(resource.labels),
        spec=resource.spec,
        resource=resource,
    )


def selects_inbound(
    spec: Mapping[str, Any],
    dataplane: Resource,
    inbound: Mapping[str, Any],
) -> bool:
    """Kuma's MeshService selector on one inbound of one Dataplane."""
    selector = spec.get("selector")
    if not isinstance(selector, dict):
        return False
    if isinstance(selector.get("dataplaneTags"), dict):
        tags = _str_map(inbound.get("tags"))
        wanted = _str_map(selector["dataplaneTags"])
        return bool(wanted) and all(tags.get(k) == v for k, v in wanted.items())
    ref = selector.get("dataplaneRef")
    if isinstance(ref, dict):
        return ref.get("name") == dataplane.name
    labels = selector.get("dataplaneLabels")
    if isinstance(labels, dict):
        wanted = _str_map(labels.get("matchLabels"))
        have = _str_map(dataplane.labels)
        return all(have.get(k) == v for k, v in wanted.items())
    return False


def target_port_matches(port: Mapping[str, Any], inbound: Mapping[str, Any]) -> bool:
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, str) and not target.isdigit():
        return inbound.get("name") == target
    return str(inbound.get("port")) == str(target)


def ref_matches(ref: Mapping[str, Any], destination: Destination) -> bool:
    """Whether a ``to[]`` / ``backendRef`` targetRef names ``destination`` (any section)."""
    if ref.get("kind") != destination.kind:
        return False
    labels = ref.get("labels")
    if isinstance(labels, dict) and labels:
        return all(destination.labels.get(str(k)) == str(v) for k, v in labels.items())
    return ref.get("name") == destination.name


def to_entry_applies(ref: Mapping[str, Any], destination: Destination) -> bool:
    """Kuma ``isRelevant`` of a ``to[]`` entry's targetRef for a destination."""
    kind = ref.get("kind", "Mesh")
    if kind == "Mesh":
        return True
    if not ref_matches(ref, destination):
        return False
    section = ref.get("sectionName")
    if kind == MESH_SERVICE and section is not None and section != "":
        return str(section) == destination.section
    return True


def resolve_backend_ref(
    ref: Mapping[str, Any], destinations: Sequence[Destination]
) -> tuple[Destination | None, str]:
    """The destination a Dataplane outbound's ``backendRef`` names, or why there is none.

    MeshService: by ``name`` (or ``labels``, which must match exactly one service) and the
    port whose number is ``port``; MeshExternalService: by name, its port is ``match.port``.
    """
    kind = ref.get("kind")
    if kind not in SHORT_NAMES:
        return None, f"backendRef kind {kind} is not applied"
    candidates, problem = _one_resource(ref, destinations)
    if problem or kind == MESH_EXTERNAL_SERVICE:
        return (None if problem else candidates[0]), problem
    port = ref.get("port")
    for destination in candidates:
        if destination.port == port:
            return destination, ""
    ports = ", ".join(str(d.port) for d in candidates)
    return None, f"MeshService {candidates[0].name} has no port {port} (ports: {ports})"


def _one_resource(
    ref: Mapping[str, Any], destinations: Sequence[Destination], *, if_none: str = ""
) -> tuple[list[Destination], str]:
    """The destinations (ports) of the one resource ``ref`` names, or why there is none
    (``if_none`` added when it names none): ``labels`` must select exactly one resource."""
    kind = ref.get("kind")
    candidates = [d for d in destinations if ref_matches(ref, d)]
    services = sorted({d.name for d in candidates})
    if not services:
        what = ref.get("name") or ref.get("labels")
        return [], f"backendRef names no {kind} ({what}){if_none}"
    if len(services) > 1:
        return [], f"backendRef labels select several {kind}s ({', '.join(services)})"
    return candidates, ""


def references_real_resource(ref: Mapping[str, Any]) -> bool:
    """Kuma ``BackendRef.ReferencesRealObject`` for the kinds this compiler resolves: a
    MeshService with a ``sectionName`` or ``port``, and a MeshExternalService."""
    kind = ref.get("kind")
    if kind == MESH_EXTERNAL_SERVICE:
        return True
    return kind == MESH_SERVICE and (bool(ref.get("sectionName")) or ref.get("port") is not None)


def route_backend(
    ref: Mapping[str, Any], destinations: Sequence[Destination]
) -> tuple[Destination | None, str]:
    """The destination a route's real-resource ``backendRef`` sends to, or why none.

    Kuma 2.14 ``resolve.BackendRef`` then ``meshroute.DestinationPortFromRef``: the section
    is ``sectionName``, else ``port`` as a number; a MeshService's port is the one whose name
    or number is that section (``FindPortByName``); a MeshExternalService has its one port
    whatever the section. ``labels`` must select exactly one resource.
    """
    candidates, problem = _one_resource(ref, destinations, if_none="; Kuma drops this backend")
    if problem or ref.get("kind") == MESH_EXTERNAL_SERVICE:
        return (None if problem else candidates[0]), problem
    section = ref.get("sectionName")
    wanted = str(section) if section else str(ref.get("port"))
    for destination in candidates:
        if wanted in (destination.section, str(destination.port)):
            return destination, ""
    ports = ", ".join(d.section for d in candidates)
    return None, (
        f"MeshService {candidates[0].name} has no port {wanted} (ports: {ports}); "
        "Kuma drops this backend"
    )
