"""Dataplane (Kuma 2.14 ``dataplane_validator.go``): networking, inbounds, outbounds, gateway.

A Dataplane needs no inbound: outbound-only proxies, transparent proxies and zone proxies
(``networking.listeners``) are valid as they are in Kuma. The checks depend on the proxy's
role, as in Kuma's ``Validate``: a delegated gateway, a builtin gateway or a sidecar.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reconciler import codes
from reconciler.kinds.dataplane import interfaces, not_applied, probes
from reconciler.kinds.dataplane.interfaces import check_address, check_port
from reconciler.model import MapKey, Resource
from reconciler.targetref import PROTOCOL_TAG, SERVICE_TAG
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map, is_set
from reconciler.validate.rules.targetrefs import check_tags
from reconciler.validate.rules.values import is_go_ip

SUPPORTED_PROTOCOLS = ("grpc", "http", "http2", "kafka", "tcp")
"""Kuma ``SupportedProtocols``: the values its messages list."""
KNOWN_PROTOCOLS = (*SUPPORTED_PROTOCOLS, "tls")
"""What Kuma ``ParseProtocol`` knows (case-insensitive)."""
OUTBOUND_BACKEND_KINDS = ("MeshExternalService", "MeshMultiZoneService", "MeshService")
NET = ("networking",)
ALLOWED = f"Allowed values: {', '.join(SUPPORTED_PROTOCOLS)}"
MISSING_SERVICE = f'mandatory tag "{SERVICE_TAG}" is missing'


def check(f: Findings, resource: Resource) -> None:
    _check_own(f, resource)
    not_applied.check(f, resource)


def gateway_type(networking: Mapping[str, Any]) -> str | None:
    """``DELEGATED`` or ``BUILTIN`` for a gateway proxy (the protobuf default is DELEGATED)."""
    gateway = networking.get("gateway")
    if gateway is None:
        return None
    kind = as_map(gateway).get("type")
    return "BUILTIN" if kind == "BUILTIN" else "DELEGATED"


def _check_own(f: Findings, resource: Resource) -> None:
    networking = resource.data.get("networking")
    if networking is None:
        f.add(codes.DATAPLANE_NETWORKING, NET, "must be defined")
        return
    if not isinstance(networking, dict):
        return
    interfaces.check_admin(f, networking)
    role = gateway_type(networking)
    if role is None:
        _check_networking(f, networking)
        probes.check(f, resource)
        interfaces.check_listeners(f, networking)
        return
    kind = role.lower()
    sections = ("inbound", "outbound") if role == "BUILTIN" else ("inbound",)
    for section in (*sections, "listeners"):
        if as_list(networking.get(section)):
            f.add(
                codes.DATAPLANE_NETWORKING,
                (*NET, section),
                f"{section} cannot be defined for {kind} gateways",
            )
    if role == "BUILTIN" and resource.data.get("probes") is not None:
        f.add(
            codes.DATAPLANE_NETWORKING,
            (*NET, "probes"),
            "probes cannot be defined for builtin gateways",
        )
    _check_gateway(f, as_map(networking.get("gateway")))
    _check_networking(f, networking)
    if role == "DELEGATED":
        probes.check_probes(f, resource)


def _check_networking(f: Findings, networking: Mapping[str, Any]) -> None:
    address = networking.get("address")
    check_address(f, (*NET, "address"), address)
    for i, item in enumerate(as_list(networking.get("inbound"))):
        if isinstance(item, dict):
            _check_inbound(f, (*NET, "inbound", i), item, address)
    for i, item in enumerate(as_list(networking.get("outbound"))):
        if isinstance(item, dict):
            _check_outbound(f, (*NET, "outbound", i), item)
    probes.check_reachable_backends(f, networking)


def _protocol_known(value: str) -> bool:
    return value.lower() in KNOWN_PROTOCOLS


def _check_inbound(f: Findings, path: Path, inbound: Mapping[str, Any], dp_address: object) -> None:
    check_port(f, (*path, "port"), inbound.get("port"), zero_in_schema=True)
    port, service_port = inbound.get("port"), inbound.get("servicePort") or 0
    same_port = service_port == 0 or service_port == port
    service_address = inbound.get("serviceAddress") or ""
    address = inbound.get("address") or ""
    conflict = "serviceAddress and servicePort has to differ from address and port"
    if isinstance(service_address, str) and service_address:
        if not is_go_ip(service_address):
            f.add(
                codes.DATAPLANE_NETWORKING,
                (*path, "serviceAddress"),
                "serviceAddress has to be valid IP address",
            )
        if service_address == dp_address and same_port:
            f.add(codes.DATAPLANE_NETWORKING, (*path, "serviceAddress"), conflict)
    if isinstance(address, str) and address:
        if not is_go_ip(address):
            f.add(
                codes.DATAPLANE_NETWORKING, (*path, "address"), "address has to be valid IP address"
            )
        if address == service_address and same_port:
            f.add(codes.DATAPLANE_NETWORKING, (*path, "serviceAddress"), conflict)
    tags = inbound.get("tags")
    protocol = as_map(tags).get(PROTOCOL_TAG)
    if isinstance(protocol, str) and not _protocol_known(protocol):
        f.add(
            codes.VALUE_NOT_ALLOWED,
            (*path, "tags", MapKey(PROTOCOL_TAG)),
            f"tag {json.dumps(PROTOCOL_TAG)} has an invalid value {json.dumps(protocol)}. {ALLOWED}",
        )
    check_tags(f, (*path, "tags"), tags, selector=False)
    field_protocol = inbound.get("protocol")
    if isinstance(field_protocol, str) and field_protocol and not _protocol_known(field_protocol):
        f.add(
            codes.VALUE_NOT_ALLOWED,
            (*path, "protocol"),
            f"has an invalid value {json.dumps(field_protocol)}. {ALLOWED}",
        )
    probes.check_service_probe(f, path, inbound)
    # the service tag is required only when the inbound has tags (Kuma's old setup)
    if isinstance(tags, dict) and tags and SERVICE_TAG not in tags:
        f.add(codes.DATAPLANE_SERVICE_TAG, (*path, "tags", MapKey(SERVICE_TAG)), "tag has to exist")


def _check_outbound(f: Findings, path: Path, outbound: Mapping[str, Any]) -> None:
    check_port(f, (*path, "port"), outbound.get("port"), zero_in_schema=True)
    address = outbound.get("address")
    if isinstance(address, str) and address and not is_go_ip(address):
        f.add(codes.DATAPLANE_NETWORKING, (*path, "address"), "address has to be valid IP address")
    tags = outbound.get("tags")
    backend = outbound.get("backendRef")
    if backend is not None:
        _check_backend_ref(f, (*path, "backendRef"), as_map(backend))
    elif not is_set(tags):
        if not is_set(outbound.get("service")):
            f.add(codes.DATAPLANE_SERVICE_TAG, (*path, "tags"), MISSING_SERVICE)
    else:
        check_tags(f, (*path, "tags"), tags, selector=False)
        if isinstance(tags, dict) and SERVICE_TAG not in tags:
            f.add(codes.DATAPLANE_SERVICE_TAG, (*path, "tags"), MISSING_SERVICE)
    if backend is not None and (is_set(tags) or is_set(outbound.get("service"))):
        f.add(
            codes.DATAPLANE_SERVICE_TAG,
            (*path, "backendRef"),
            "both backendRef and tags/service cannot be defined",
        )


def _check_backend_ref(f: Findings, path: Path, backend: Mapping[str, Any]) -> None:
    kind = backend.get("kind")
    if kind not in OUTBOUND_BACKEND_KINDS:
        f.add(
            codes.TARGETREF_KIND,
            (*path, "kind"),
            f"invalid value. Available values are: {','.join(OUTBOUND_BACKEND_KINDS)}",
        )
    if not is_set(backend.get("name")) and not is_set(backend.get("labels")):
        f.add(codes.TARGETREF_FIELD, path, "either 'name' or 'labels' should be specified")
    # for a MeshExternalService the port comes from its endpoints
    if kind != "MeshExternalService":
        check_port(f, (*path, "port"), backend.get("port"), zero_in_schema=False)


def _check_gateway(f: Findings, gateway: Mapping[str, Any]) -> None:
    """Kuma ``validateGateway``: tags, ``kuma.io/service`` when tagged, protocol only tcp."""
    path = (*NET, "gateway", "tags")
    tags = gateway.get("tags")
    protocol = as_map(tags).get(PROTOCOL_TAG)
    if isinstance(protocol, str) and protocol.lower() != "tcp":
        f.add(
            codes.VALUE_NOT_ALLOWED,
            (*path, MapKey(PROTOCOL_TAG)),
            f"other values than tcp are not allowed, provided value {json.dumps(protocol)}",
        )
    check_tags(f, path, tags, selector=False)
    if isinstance(tags, dict) and tags and SERVICE_TAG not in tags:
        f.add(codes.DATAPLANE_SERVICE_TAG, path, MISSING_SERVICE)
