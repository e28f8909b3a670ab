"""ExternalService (Kuma 2.14 ``external_service_validator.go``): the address, TLS data
sources and the tags (``kuma.io/service`` required, a known ``kuma.io/protocol``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler import codes
from reconciler.model import MapKey, Resource
from reconciler.validate.rules.addresses import split_host_port
from reconciler.validate.rules.findings import Findings, Path
from reconciler.validate.rules.gotemplate_lexer import go_quote
from reconciler.validate.rules.selectors import (
    PROTOCOL_TAG,
    SERVICE_TAG,
    TagRules,
    check_tags,
    is_dns_name,
    is_ip,
    oneof_member,
    proto_field,
)

PROTOCOLS = ("grpc", "http", "http2", "kafka", "tcp")
"""Kuma's ``SupportedProtocols``."""
DATA_SOURCES = (
    ("secret", "secret"),
    ("file", "file"),
    ("inline", "inline"),
    ("inlineString", "inline_string"),
)
"""``system.v1alpha1.DataSource`` ``type`` oneof, in declaration order."""
ADDRESS: Path = ("networking", "address")


def check(f: Findings, resource: Resource) -> None:
    data = resource.spec
    networking = data.get("networking")
    if networking is None:
        f.add(codes.SETTING_MISSING, ("networking",), "should have networking")
    elif isinstance(networking, dict):
        _networking(f, networking)
    tags = data.get("tags")
    if tags is None or isinstance(tags, dict):
        _tags(f, tags or {}, networking if isinstance(networking, dict) else {})


def _networking(f: Findings, networking: Mapping[str, Any]) -> None:
    address = networking.get("address")
    if address is None or address == "":
        f.add(codes.SETTING_MISSING, ADDRESS, "address can't be empty")
    elif isinstance(address, str):
        _address(f, address)
    tls = networking.get("tls")
    if not isinstance(tls, dict):
        return
    if proto_field(tls, "serverName", "server_name") == "":
        f.add(codes.SETTING_MISSING, ("networking", "tls", "serverName"), "cannot be empty")
    for json_name, proto_name in (
        ("caCert", "ca_cert"),
        ("clientCert", "client_cert"),
        ("clientKey", "client_key"),
    ):
        source = proto_field(tls, json_name, proto_name)
        if isinstance(source, dict):
            _data_source(f, ("networking", "tls", json_name), source)


def _address(f: Findings, address: str) -> None:
    parts = split_host_port(address)
    host, port = parts if parts is not None else ("", "")
    if parts is None:
        f.add(codes.VALUE_NOT_ALLOWED, ADDRESS, "unable to parse address")
    if not is_ip(host) and not is_dns_name(host):
        f.add(codes.NAME_FORMAT, ADDRESS, "address has to be a valid IP address or a domain name")
    number = int(port) if port.isascii() and port.isdigit() else None
    if number is None or number > 0xFFFFFFFF:
        f.add(codes.VALUE_NOT_ALLOWED, ADDRESS, "unable to parse port in address")
        number = 0
    if not 1 <= number <= 65535:
        f.add(codes.NUMBER_RANGE, ADDRESS, "port must be in the range [1, 65535]")


def _data_source(f: Findings, path: Path, source: Mapping[str, Any]) -> None:
    """Kuma's ``system.ValidateDataSource``: a given source must hold a non-empty value."""
    member = oneof_member(source, DATA_SOURCES)  # jsonpb keeps the last one given
    if member is None or member[1] == "":
        f.add(codes.SETTING_MISSING, path, "data source cannot be empty")


def _tags(f: Findings, tags: Mapping[str, Any], networking: Mapping[str, Any]) -> None:
    check_tags(f, ("tags",), tags, TagRules(require_service=True))
    protocol = tags.get(PROTOCOL_TAG)
    if protocol is None and PROTOCOL_TAG in tags:
        protocol = ""  # Kuma reads a null tag value as the empty string
    if isinstance(protocol, str) and protocol.lower() not in PROTOCOLS:
        f.add(
            codes.VALUE_NOT_ALLOWED,
            ("tags", MapKey(PROTOCOL_TAG)),
            f"tag {go_quote(PROTOCOL_TAG)} has an invalid value {go_quote(protocol)}. "
            f"Allowed values: {', '.join(PROTOCOLS)}",
        )
    service = tags.get(SERVICE_TAG)
    address = networking.get("address")
    if isinstance(service, str) and service and isinstance(address, str):
        parts = split_host_port(address)
        if parts is not None and parts[0] == service:
            f.add(
                codes.SETTINGS_CONFLICT,
                ("tags", MapKey(SERVICE_TAG)),
                "cannot be the same as networking.address",
            )
