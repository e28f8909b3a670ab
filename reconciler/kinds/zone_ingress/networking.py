"""The ``networking`` rules shared by ZoneIngress and ZoneEgress (Kuma 2.14 ``zone_*_validator.go``).

Field paths are Kuma's: its ``validateAddress`` is called with the field's own path and adds
``address`` again, so an invalid ``networking.address`` is reported at
``networking.address.address`` (and ``networking.advertisedAddress.address``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from reconciler import codes
from reconciler.validate.rules.findings import Findings, Path, as_map, is_number
from reconciler.validate.rules.values import is_dns_name, is_go_ip

NET = ("networking",)
LOOPBACK = ipaddress.ip_address("127.0.0.1")


def check_address(f: Findings, path: Path, address: str) -> None:
    """Kuma ``validateAddress`` (mesh package), for a non-empty address."""
    if address in ("0.0.0.0", "::"):
        f.add(codes.ZONE_PROXY_NETWORKING, (*path, "address"), "must not be 0.0.0.0 or ::")
    if not is_go_ip(address) and not is_dns_name(address):
        f.add(
            codes.ZONE_PROXY_NETWORKING,
            (*path, "address"),
            "address has to be valid IP address or domain name",
        )


def check_port(f: Findings, path: Path, port: object) -> None:
    """Kuma ``ValidatePort`` (mesh package); an omitted port is 0. Negative: the schema."""
    if port is None or (is_number(port) and (port == 0 or port > 65535)):
        f.add(codes.ZONE_PROXY_NETWORKING, path, "port must be in the range [1, 65535]")


def _overlaps_loopback(address: object) -> bool:
    """Kuma ``overlap(127.0.0.1, net.ParseIP(address))``: a wildcard or the loopback address."""
    if not is_go_ip(address):
        return False
    assert isinstance(address, str)
    ip = ipaddress.ip_address(address)
    if ip.is_unspecified:
        return True
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip == LOOPBACK or mapped == LOOPBACK


def check_admin_port(f: Findings, networking: Mapping[str, Any], *pairs: tuple[str, str]) -> None:
    """The admin port must differ from a listener port bound on a loopback-reachable address."""
    admin = networking.get("admin")
    if not isinstance(admin, dict):
        return
    admin_port = admin.get("port") or 0
    for address_field, port_field in pairs:
        port = networking.get(port_field) or 0
        if port == admin_port and _overlaps_loopback(networking.get(address_field)):
            f.add(codes.ZONE_PROXY_NETWORKING, (*NET, "admin", "port"), "must differ from port")
            return


def check_networking(f: Findings, networking: object, *, advertised: bool) -> None:
    net = as_map(networking)
    pairs = [("address", "port")]
    if advertised:
        pairs.append(("advertisedAddress", "advertisedPort"))
    check_admin_port(f, net, *pairs)
    if advertised:
        adv_address = net.get("advertisedAddress") or ""  # null is "not set", as in protobuf
        adv_port = net.get("advertisedPort") or 0
        if adv_address == "" and adv_port != 0:
            f.add(
                codes.ZONE_PROXY_NETWORKING,
                (*NET, "advertisedAddress"),
                "has to be defined with advertisedPort",
            )
        if adv_port == 0 and adv_address != "":
            f.add(
                codes.ZONE_PROXY_NETWORKING,
                (*NET, "advertisedPort"),
                "has to be defined with advertisedAddress",
            )
    address = net.get("address")
    if isinstance(address, str) and address:
        check_address(f, (*NET, "address"), address)
    if advertised:
        adv = net.get("advertisedAddress")
        if isinstance(adv, str) and adv:
            check_address(f, (*NET, "advertisedAddress"), adv)
    check_port(f, (*NET, "port"), net.get("port"))
    if advertised and net.get("advertisedPort"):
        check_port(f, (*NET, "advertisedPort"), net.get("advertisedPort"))
