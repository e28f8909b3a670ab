"""Dataplane (Kuma 2.14 ``dataplane_validator.go``): networking, inbounds, outbounds, admin."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from reconciler import codes
from reconciler.kinds.dataplane import not_applied, probes
from reconciler.model import Resource
from reconciler.targetref import PROTOCOL_TAG, SERVICE_TAG
from reconciler.validate.rules import values as v
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map, is_number, is_set
from reconciler.validate.rules.targetrefs import check_tags
from reconciler.validate.rules.values import is_ip

PROTOCOLS = ("grpc", "http", "http2", "kafka", "tcp")
OUTBOUND_BACKEND_KINDS = ("MeshService", "MeshExternalService", "MeshMultiZoneService")
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)*\.?$"
)
NET = ("networking",)


def check(f: Findings, resource: Resource) -> None:
    _check_own(f, resource)
    probes.check(f, resource)
    not_applied.check(f, resource)


def _check_own(f: Findings, resource: Resource) -> None:
    networking = resource.data.get("networking")
    if networking is None:
        f.add(codes.DATAPLANE_NETWORKING, NET, "must be defined")
        return
    if not isinstance(networking, dict):
        return
    inbound = as_list(networking.get("inbound"))
    gateway = networking.get("gateway")
    if not inbound and gateway is None:
        f.add(
            codes.DATAPLANE_NETWORKING,
            NET,
            "has to contain at least one inbound interface or gateway",
        )
    builtin = as_map(gateway).get("type") == "BUILTIN"
    kind = "builtin" if builtin else "delegated"
    if inbound and gateway is not None:
        f.add(
            codes.DATAPLANE_NETWORKING,
            (*NET, "inbound"),
            f"inbound cannot be defined for {kind} gateways",
        )
    if builtin and as_list(networking.get("outbound")):
        f.add(
            codes.DATAPLANE_NETWORKING,
            (*NET, "outbound"),
            "outbound cannot be defined for builtin gateways",
        )
    address = networking.get("address")
    _check_address(f, (*NET, "address"), address, required=True)
    if networking.get("advertisedAddress") is not None:
        _check_address(
            f, (*NET, "advertisedAddress"), networking.get("advertisedAddress"), required=False
        )
    if isinstance(gateway, dict):
        tags = gateway.get("tags")
        if isinstance(tags, dict) and SERVICE_TAG not in tags:
            f.add(
                codes.DATAPLANE_SERVICE_TAG,
                (*NET, "gateway", "tags", SERVICE_TAG),
                "tag has to exist",
            )
        protocol = as_map(tags).get(PROTOCOL_TAG)
        if not builtin and isinstance(protocol, str) and protocol != "tcp":
            f.add(
                codes.VALUE_NOT_ALLOWED,
                (*NET, "gateway", "tags", PROTOCOL_TAG),
                "other values than TCP are not allowed",
            )
        check_tags(f, (*NET, "gateway", "tags"), tags, selector=False)
    for i, item in enumerate(inbound):
        if isinstance(item, dict):
            _check_inbound(f, (*NET, "inbound", i), item, address)
    for i, item in enumerate(as_list(networking.get("outbound"))):
        if isinstance(item, dict):
            _check_outbound(f, (*NET, "outbound", i), item)
    _check_admin(f, networking)


def _check_address(f: Findings, path: Path, value: object, *, required: bool) -> None:
    if value is None or value == "":
        if required:
            f.add(codes.DATAPLANE_NETWORKING, path, "address can't be empty")
        return
    if not isinstance(value, str):
        return
    if is_ip(value):
        if ipaddress.ip_address(value).is_unspecified:
            f.add(
                codes.DATAPLANE_NETWORKING,
                path,
                f"must not be {value}: give the address other proxies reach this one at",
            )
    elif not _HOSTNAME.match(value):
        f.add(codes.DATAPLANE_NETWORKING, path, "address has to be valid IP address or domain name")


def _check_inbound(f: Findings, path: Path, inbound: Mapping[str, Any], dp_address: object) -> None:
    port, service_port = inbound.get("port"), inbound.get("servicePort")
    same_port = service_port in (None, 0) or service_port == port
    service_address = inbound.get("serviceAddress")
    address = inbound.get("address")
    if is_set(service_address):
        if not is_ip(service_address):
            f.add(
                codes.DATAPLANE_NETWORKING,
                (*path, "serviceAddress"),
                "serviceAddress has to be valid IP address",
            )
        elif service_address in (dp_address, address or None) and same_port:
            f.add(
                codes.DATAPLANE_NETWORKING,
                (*path, "serviceAddress"),
                "serviceAddress and servicePort has to differ from address and port",
            )
    if is_set(address) and not is_ip(address):
        f.add(codes.DATAPLANE_NETWORKING, (*path, "address"), "address has to be valid IP address")
    tags = inbound.get("tags")
    if isinstance(tags, dict) and tags and SERVICE_TAG not in tags:
        f.add(codes.DATAPLANE_SERVICE_TAG, (*path, "tags", SERVICE_TAG), "tag has to exist")
    protocol = as_map(tags).get(PROTOCOL_TAG)
    if isinstance(protocol, str) and protocol not in PROTOCOLS:
        f.add(
            codes.VALUE_NOT_ALLOWED,
            (*path, "tags", PROTOCOL_TAG),
            f"tag {PROTOCOL_TAG!r} has an invalid value {protocol!r}. Allowed values: {', '.join(PROTOCOLS)}",
        )
    field_protocol = inbound.get("protocol")
    if isinstance(field_protocol, str) and field_protocol and field_protocol not in PROTOCOLS:
        f.add(
            codes.VALUE_NOT_ALLOWED,
            (*path, "protocol"),
            f"invalid protocol {field_protocol!r}. Allowed values: {', '.join(PROTOCOLS)}",
        )
    check_tags(f, (*path, "tags"), tags, selector=False)


def _check_outbound(f: Findings, path: Path, outbound: Mapping[str, Any]) -> None:
    address = outbound.get("address")
    if is_set(address) and not is_ip(address):
        f.add(codes.DATAPLANE_NETWORKING, (*path, "address"), "address has to be valid IP address")
    tags = outbound.get("tags")
    backend = outbound.get("backendRef")
    has_service = is_set(tags) or is_set(outbound.get("service"))
    if backend is not None and has_service:
        f.add(
            codes.DATAPLANE_SERVICE_TAG, path, "both backendRef and tags/service cannot be defined"
        )
    elif backend is None and not has_service:
        f.add(
            codes.DATAPLANE_SERVICE_TAG,
            (*path, "tags", SERVICE_TAG),
            "either tags with kuma.io/service or backendRef has to be defined",
        )
    if isinstance(tags, dict) and tags and SERVICE_TAG not in tags:
        f.add(codes.DATAPLANE_SERVICE_TAG, (*path, "tags", SERVICE_TAG), "tag has to exist")
    check_tags(f, (*path, "tags"), tags, selector=False)
    if isinstance(backend, dict):
        kind = backend.get("kind")
        if isinstance(kind, str) and kind not in OUTBOUND_BACKEND_KINDS:
            f.add(
                codes.TARGETREF_KIND,
                (*path, "backendRef", "kind"),
                f"value {kind!r} is not supported (allowed: {', '.join(OUTBOUND_BACKEND_KINDS)})",
            )
        if not is_set(backend.get("name")) and not is_set(backend.get("labels")):
            f.add(
                codes.TARGETREF_FIELD,
                (*path, "backendRef"),
                "either 'name' or 'labels' should be specified",
            )
        port = backend.get("port")
        if kind != "MeshExternalService" and (port is None or (is_number(port) and port == 0)):
            f.add(
                codes.SETTING_MISSING,
                (*path, "backendRef", "port"),
                "port must be in the range [1, 65535]",
            )
        else:
            v.port(f, (*path, "backendRef", "port"), port)


def _check_admin(f: Findings, networking: Mapping[str, Any]) -> None:
    admin_port = as_map(networking.get("admin")).get("port")
    if not is_number(admin_port) or admin_port == 0:
        return
    for section in ("inbound", "outbound"):
        for i, item in enumerate(as_list(networking.get(section))):
            if as_map(item).get("port") == admin_port:
                f.add(
                    codes.DATAPLANE_ADMIN_PORT,
                    (*NET, "admin", "port"),
                    f"must differ from {section} (networking.{section}[{i}] uses port {admin_port})",
                )
                break
