"""Where a Dataplane's ports are bound: the admin port and zone-proxy ``listeners`` (Kuma 2.14).

Kuma's ``UsesInboundInterface`` / ``UsesOutboundInterface`` decide whether the admin port
(always bound on 127.0.0.1) collides: an inbound binds its port on its address (or
``networking.address``) and forwards to its service port on its service address (default
127.0.0.1); an outbound binds on its address (default 127.0.0.1). Two ports collide only
when the addresses overlap (equal, or one is a wildcard), so an admin port equal to an
inbound port on another address is valid.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from typing import Any

from reconciler import codes
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map, is_number
from reconciler.validate.rules.values import is_dns_name, is_go_ip

NET = ("networking",)
LOOPBACK = "127.0.0.1"
LISTENER_TYPES = {"Unspecified": 0, "ZoneIngress": 1, "ZoneEgress": 2}
PORT_RANGE = "port must be in the range [1, 65535]"


def check_address(f: Findings, path: Path, value: object) -> None:
    """Kuma ``validateAddress``: required, not a wildcard, an IP address or a DNS name."""
    if value is None or value == "":
        f.add(codes.DATAPLANE_NETWORKING, path, "address can't be empty")
        return
    if not isinstance(value, str):
        return
    if value in ("0.0.0.0", "::"):
        f.add(codes.DATAPLANE_NETWORKING, path, "must not be 0.0.0.0 or ::")
    if not is_go_ip(value) and not is_dns_name(value):
        f.add(codes.DATAPLANE_NETWORKING, path, "address has to be valid IP address or domain name")


def check_port(f: Findings, path: Path, value: object, *, zero_in_schema: bool) -> None:
    """Kuma ``ValidatePort``; an omitted port is 0. ``zero_in_schema``: the schema rejects 0."""
    if value is None or (is_number(value) and value == 0 and not zero_in_schema):
        f.add(codes.NUMBER_RANGE, path, PORT_RANGE)


def _listener_type(value: object) -> int | None:
    """The protobuf number of a listener ``type`` (protojson: a name or a number)."""
    if value is None:
        return 0
    if is_number(value):
        return int(value)
    return LISTENER_TYPES.get(value) if isinstance(value, str) else None


def _overlaps_loopback(address: object) -> bool:
    """Kuma ``overlap(127.0.0.1, net.ParseIP(address))``: a wildcard or the loopback address."""
    if not is_go_ip(address):
        return False
    assert isinstance(address, str)
    ip = ipaddress.ip_address(address)
    mapped = getattr(ip, "ipv4_mapped", None)
    loopback = ipaddress.ip_address(LOOPBACK)
    return ip.is_unspecified or ip == loopback or mapped == loopback


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _number(value: object) -> object:
    return 0 if value is None else value


def _inbound_use(networking: Mapping[str, Any], inbound: Mapping[str, Any], port: object) -> str:
    """How the inbound uses ``port`` on 127.0.0.1, or "" (Kuma ``ToInboundInterface``)."""
    dp_port = _number(inbound.get("port"))
    dp_ip = _text(inbound.get("address")) or _text(networking.get("address"))
    workload_port = _number(inbound.get("servicePort")) or dp_port
    workload_ip = _text(inbound.get("serviceAddress")) or LOOPBACK
    if port == dp_port and _overlaps_loopback(dp_ip):
        return f"listens on {dp_ip}:{port}"
    if port == workload_port and _overlaps_loopback(workload_ip):
        return f"forwards to {workload_ip}:{port}"
    return ""


def check_admin(f: Findings, networking: Mapping[str, Any]) -> None:
    """Kuma: ``networking.admin.port`` must differ from inbound and outbound interfaces."""
    admin = networking.get("admin")
    if not isinstance(admin, dict):
        return
    port = _number(admin.get("port"))
    path = (*NET, "admin", "port")
    for i, inbound in enumerate(as_list(networking.get("inbound"))):
        use = _inbound_use(networking, as_map(inbound), port)
        if use:
            f.add(
                codes.DATAPLANE_ADMIN_PORT,
                path,
                f"must differ from inbound (networking.inbound[{i}] {use})",
            )
            break
    for i, outbound in enumerate(as_list(networking.get("outbound"))):
        item = as_map(outbound)
        address = _text(item.get("address")) or LOOPBACK
        if _number(item.get("port")) == port and _overlaps_loopback(address):
            f.add(
                codes.DATAPLANE_ADMIN_PORT,
                path,
                f"must differ from outbound (networking.outbound[{i}] listens on {address}:{port})",
            )
            break


def check_listeners(f: Findings, networking: Mapping[str, Any]) -> None:
    """Kuma ``validateListeners``: zone-proxy listeners of a sidecar Dataplane."""
    names = {
        name
        for inbound in as_list(networking.get("inbound"))
        if isinstance(name := as_map(inbound).get("name"), str) and name
    }
    inbound_keys = [
        f"{_text(as_map(i).get('address')) or _text(networking.get('address'))}:"
        f"{_number(as_map(i).get('port'))}"
        for i in as_list(networking.get("inbound"))
    ]
    seen: dict[str, int | None] = {}
    for i, listener in enumerate(as_list(networking.get("listeners"))):
        if not isinstance(listener, dict):
            continue
        path: Path = (*NET, "listeners", i)
        kind = _listener_type(listener.get("type"))
        if not kind:
            f.add(
                codes.DATAPLANE_NETWORKING,
                (*path, "type"),
                "type must be ZoneIngress or ZoneEgress",
            )
        check_address(f, (*path, "address"), listener.get("address"))
        check_port(f, (*path, "port"), listener.get("port"), zero_in_schema=False)
        name = listener.get("name")
        if isinstance(name, str) and name:
            if name in names:
                f.add(
                    codes.DATAPLANE_NETWORKING,
                    (*path, "name"),
                    f"name {json.dumps(name)} must be unique across inbounds and listeners",
                )
            names.add(name)
        key = f"{_text(listener.get('address'))}:{_number(listener.get('port'))}"
        if key in seen:
            same = seen[key] == kind
            f.add(
                codes.DATAPLANE_NETWORKING,
                path,
                f"address:port {key} is already used by another listener"
                if same
                else f"address:port {key} is used by listeners of different types",
            )
        else:
            seen[key] = kind
        if key in inbound_keys:
            f.add(
                codes.DATAPLANE_NETWORKING,
                path,
                f"address:port {key} collides with an inbound listener",
            )
