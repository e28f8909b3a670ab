"""MeshPassthrough (Kuma 2.14 ``meshpassthrough/api/v1alpha1/validator.go``).

The top-level targetRef is the shared opening; this is ``validateDefault`` over
``appendMatch[]``: ports, one L7 protocol per port, no duplicate destination per port and
protocol, and values that fit their ``type`` (a domain, possibly ``*.``-prefixed; an IP; a
CIDR). An omitted ``protocol`` is Kuma's default ``tcp``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reconciler import codes
from reconciler.model import Resource
from reconciler.validate.rules.addresses import is_cidr, is_dns_name, is_ip
from reconciler.validate.rules.findings import Findings, Path, as_list, is_number

PROTOCOLS = ("tcp", "tls", "grpc", "http", "http2", "mysql")
L7_PROTOCOLS = ("grpc", "http", "http2")
_PARTIAL_WILDCARD = re.compile(r"^\*[^.]+")
_SAME_PORT = (
    "using the same port in multiple matches requires the same protocol for the following "
    "protocols: [grpc http http2]"
)


def check(f: Findings, resource: Resource) -> None:
    conf = resource.spec.get("default")
    if not isinstance(conf, dict):
        return
    protocol_of_port: dict[int, str] = {}
    values_of: dict[tuple[int, str], set[str]] = {}
    for i, match in enumerate(as_list(conf.get("appendMatch"))):
        if isinstance(match, dict):
            _check_match(f, ("default", "appendMatch", i), match, protocol_of_port, values_of)


def _check_match(
    f: Findings,
    path: Path,
    match: Mapping[str, Any],
    protocol_of_port: dict[int, str],
    values_of: dict[tuple[int, str], set[str]],
) -> None:
    protocol = match.get("protocol", "tcp")
    port = match.get("port")
    value = match.get("value")
    if not isinstance(protocol, str) or protocol not in PROTOCOLS:
        return  # the schema's enum reports it
    if protocol == "mysql" and port is None:
        f.add(codes.SETTING_MISSING, (*path, "port"), "port must be defined for Mysql protocol")
    if is_number(port) and not 0 < port <= 65535:
        f.add(codes.NUMBER_RANGE, (*path, "port"), "port must be a valid (1-65535)")
    if isinstance(port, int) and not isinstance(port, bool) and isinstance(value, str):
        known = protocol_of_port.get(port)
        if known is not None and known != protocol and protocol in L7_PROTOCOLS:
            f.add(codes.SETTINGS_CONFLICT, (*path, "port"), _SAME_PORT)
        else:
            protocol_of_port[port] = protocol
        seen = values_of.setdefault((port, protocol), set())
        if value in seen:
            f.add(
                codes.SETTINGS_CONFLICT,
                (*path, "value"),
                f"value {value} is already defiend for this port and protocol",
            )
        seen.add(value)
    if isinstance(value, str):
        _check_value(f, path, match.get("type"), value, protocol, port)


def _check_value(
    f: Findings, path: Path, kind: object, value: str, protocol: str, port: object
) -> None:
    if kind == "CIDR" and not is_cidr(value):
        f.add(codes.VALUE_NOT_ALLOWED, (*path, "value"), "provided CIDR has incorrect value")
    elif kind == "IP" and not is_ip(value):
        f.add(codes.VALUE_NOT_ALLOWED, (*path, "value"), "provided IP has incorrect value")
    elif kind == "Domain":
        if protocol in ("tcp", "mysql"):
            f.add(
                codes.VALUE_NOT_ALLOWED,
                (*path, "protocol"),
                f"protocol {protocol} is not supported for a domain",
            )
        if _PARTIAL_WILDCARD.match(value):
            f.add(
                codes.VALUE_NOT_ALLOWED,
                (*path, "value"),
                "provided DNS has incorrect value, partial wildcard is currently not supported",
            )
        if port is None and value.startswith("*") and protocol in L7_PROTOCOLS:
            f.add(
                codes.SETTING_MISSING,
                (*path, "port"),
                "wildcard domains doesn't work for all ports and layer 7 protocol",
            )
        name = value[2:] if value.startswith("*.") else value
        if not name.startswith("*") and not is_dns_name(name):
            f.add(codes.VALUE_NOT_ALLOWED, (*path, "value"), "provided DNS has incorrect value")
    # another type is reported by the schema's enum
