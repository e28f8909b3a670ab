"""MeshGateway (Kuma 2.14 ``gateway_validator.go``): selectors, tags, listeners.

Enum fields (``protocol``, ``tls.mode``) arrive by name (``validate/canonical_form.py`` turns
Kuma's numbers into names; a number no value has stays a number, which Kuma's validator
lets through); an omitted one is ``NONE``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler import codes
from reconciler.model import MapKey, Resource
from reconciler.targetref import PROTOCOL_TAG, SERVICE_TAG
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map, is_number
from reconciler.validate.rules.targetrefs import check_tags

PROTOCOLS = ("NONE", "TCP", "TLS", "HTTP", "HTTPS")
TLS_MODES = ("NONE", "TERMINATE", "PASSTHROUGH")
RESERVED_TAGS = ("kuma.io/external-service-name", PROTOCOL_TAG, SERVICE_TAG, "kuma.io/zone")
WILDCARD = "*"
_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DOMAIN = re.compile(rf"^{_DNS_LABEL}(\.{_DNS_LABEL})*$")


def enum_name(value: object, names: Sequence[str]) -> str | None:
    """The protobuf enum name of ``value``; None when unknown (a number no value has)."""
    if value is None:
        return names[0]
    return value if isinstance(value, str) and value in names else None


def check(f: Findings, resource: Resource) -> None:
    data = resource.data
    listeners = as_list(as_map(data.get("conf")).get("listeners"))
    cross_mesh = any(as_map(item).get("crossMesh") is True for item in listeners)
    _check_selectors(f, data.get("selectors"), at_most_one=cross_mesh)
    _check_selector_tags(f, ("tags",), data.get("tags"))
    conf = data.get("conf")
    if conf is None:
        f.add(codes.SETTING_MISSING, ("conf",), "cannot be empty")
        return
    path = ("conf", "listeners")
    if not listeners:
        f.add(codes.SETTING_MISSING, path, "cannot be empty")
    for i, listener in enumerate(listeners):
        if isinstance(listener, dict):
            _check_listener(f, (*path, i), listener)
    _check_collapsibility(f, path, [as_map(item) for item in listeners])


def _check_selectors(f: Findings, selectors: object, *, at_most_one: bool) -> None:
    """Kuma ``ValidateSelectors``: at least one, each with tags and a service tag."""
    items = as_list(selectors)
    if not items:
        f.add(codes.SETTING_MISSING, ("selectors",), "must have at least one element")
    for i, selector in enumerate(items):
        path = ("selectors", i, "match")
        match = as_map(selector).get("match")
        tags = match if isinstance(match, dict) else {}
        if not tags:
            f.add(codes.SETTING_MISSING, path, "must have at least one tag")
        check_tags(f, path, tags, selector=True)
        if SERVICE_TAG not in tags:
            f.add(codes.SETTING_MISSING, path, f'mandatory tag "{SERVICE_TAG}" is missing')
        if i > 0 and at_most_one:
            f.add(codes.SETTINGS_CONFLICT, ("selectors", i), "there can be at most one selector")


def _check_selector_tags(f: Findings, path: Path, tags: object) -> None:
    """Kuma ``ValidateSelector`` with ``SelectorKeyNotInSet`` of the well-known proxy tags."""
    if not isinstance(tags, dict):
        return
    check_tags(f, path, tags, selector=True)
    for key in sorted(k for k in tags if k in RESERVED_TAGS):
        f.add(codes.NAME_FORMAT, (*path, MapKey(key)), f'tag name must not be "{key}"')


def check_hostname(f: Findings, path: Path, hostname: str) -> None:
    """Kuma ``ValidateHostname``: ``*``, ``*.domain.name`` or ``domain.name``."""
    if hostname == WILDCARD:
        return
    if len(hostname) > 253:
        f.add(codes.NAME_FORMAT, path, "must be at most 253 characters")
    if hostname.startswith("*."):
        if not _DOMAIN.match(hostname[2:]):
            f.add(codes.NAME_FORMAT, path, "invalid wildcard domain")
        return
    if not _DOMAIN.match(hostname):
        f.add(codes.NAME_FORMAT, path, "invalid hostname")


def _check_listener(f: Findings, path: Path, listener: Mapping[str, Any]) -> None:
    hostname = listener.get("hostname")
    if isinstance(hostname, str) and hostname:
        check_hostname(f, (*path, "hostname"), hostname)
    port = listener.get("port")
    if port is None or (is_number(port) and (port == 0 or port > 65535)):
        f.add(codes.NUMBER_RANGE, (*path, "port"), "port must be in the range [1, 65535]")
    cross_mesh = listener.get("crossMesh") is True
    protocol = enum_name(listener.get("protocol"), PROTOCOLS)
    tls = listener.get("tls")
    tls_map = as_map(tls)
    mode = enum_name(tls_map.get("mode"), TLS_MODES)
    certificates = as_list(tls_map.get("certificates"))
    if protocol == "NONE":
        f.add(codes.SETTING_MISSING, (*path, "protocol"), "cannot be empty")
    elif protocol == "HTTPS":
        if cross_mesh:
            f.add(
                codes.SETTINGS_CONFLICT,
                (*path, "protocol"),
                "protocol is not supported with crossMesh",
            )
        elif tls is None:
            f.add(codes.SETTING_MISSING, (*path, "tls"), "cannot be empty")
        elif mode == "PASSTHROUGH":
            f.add(
                codes.SETTINGS_CONFLICT,
                (*path, "tls", "mode"),
                "mode is not supported on HTTPS listeners",
            )
    if isinstance(tls, dict) and not cross_mesh:
        if mode == "NONE":
            f.add(codes.SETTING_MISSING, (*path, "tls", "mode"), "cannot be empty")
        elif mode == "TERMINATE" and not certificates:
            f.add(
                codes.SETTING_MISSING,
                (*path, "tls", "certificates"),
                "cannot be empty in TLS termination mode",
            )
        elif mode == "TERMINATE" and len(certificates) > 2:
            f.add(
                codes.SETTINGS_CONFLICT,
                (*path, "tls", "certificates"),
                "cannot have more than 2 certificates",
            )
    if isinstance(tls, dict) and cross_mesh and (mode != "NONE" or certificates):
        f.add(codes.SETTINGS_CONFLICT, (*path, "tls"), "must be empty with crossMesh")
    _check_selector_tags(f, (*path, "tags"), listener.get("tags"))


def _check_collapsibility(f: Findings, path: Path, listeners: list[Mapping[str, Any]]) -> None:
    """Kuma ``validateListenerCollapsibility``: listeners sharing a port must be compatible."""
    protocols: dict[object, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    hostnames: dict[object, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    limited: dict[object, list[int]] = defaultdict(list)
    limits: dict[object, set[object]] = defaultdict(set)
    for i, listener in enumerate(listeners):
        port = listener.get("port") or 0
        if not is_number(port):
            continue
        protocol = enum_name(listener.get("protocol"), PROTOCOLS) or str(listener.get("protocol"))
        protocols[port][protocol].append(i)
        hostname = listener.get("hostname")
        hostnames[port][hostname if isinstance(hostname, str) and hostname else WILDCARD].append(i)
        limit = as_map(listener.get("resources")).get("connectionLimit", 0)
        if is_number(limit) and limit != 0:
            limited[port].append(i)
            limits[port].add(limit)
    for by_protocol in protocols.values():
        if len(by_protocol) > 1:
            for i in sorted(i for indexes in by_protocol.values() for i in indexes):
                f.add(
                    codes.SETTINGS_CONFLICT,
                    (*path, i),
                    "protocol conflicts with other listeners on this port",
                )
    for by_hostname in hostnames.values():
        for indexes in by_hostname.values():
            if len(indexes) > 1:
                for i in indexes:
                    f.add(
                        codes.SETTINGS_CONFLICT,
                        (*path, i),
                        "multiple listeners for hostname on this port",
                    )
    for port, indexes in limited.items():
        if len(limits[port]) > 1:
            for i in indexes:
                f.add(
                    codes.SETTINGS_CONFLICT,
                    (*path, i, "resources", "connectionLimit"),
                    "conflicting values for this port",
                )
