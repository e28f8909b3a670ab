"""Kuma's selector and tag rules of the legacy kinds (``validators.go`` in ``apis/mesh``).

Legacy policies (TrafficRoute, HealthCheck, ...) select proxies and services with
``sources``/``destinations``/``selectors``: lists of ``{match: {tag: value}}``. This module
ports ``ValidateSelectors``, ``ValidateSelector``, ``ValidateTags`` and the
``OnlyServiceTagAllowed`` options with Kuma's field paths and messages, and reads protobuf
messages the way Kuma's ``jsonpb`` unmarshaller does: a field under its JSON name or its
protobuf name (the JSON name wins when both are given), ``null`` as unset, and a ``oneof``
with several members given as its last given member in declaration order.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler import codes
from reconciler.durations import parse_duration
from reconciler.model import MapKey
from reconciler.validate.rules.findings import Findings, Path

SERVICE_TAG = "kuma.io/service"
PROTOCOL_TAG = "kuma.io/protocol"
TAG_NAME = re.compile(r"^[a-zA-Z0-9.\-_:/]*$")
TAG_VALUE = re.compile(r"^[a-zA-Z0-9.\-_:]*$")
SELECTOR_VALUE = re.compile(r"^([a-zA-Z0-9.\-_:/]*|\*)$")


def proto_field(message: Mapping[str, Any], json_name: str, proto_name: str | None = None) -> Any:
    """A protobuf field as jsonpb reads it: its JSON name, else its protobuf name (jsonpb
    reads the protobuf name first and lets the JSON name overwrite it)."""
    if json_name in message:
        return message[json_name]
    return message.get(proto_name) if proto_name is not None else None


def oneof_member(
    message: Mapping[str, Any], members: tuple[tuple[str, str], ...]
) -> tuple[str, Any] | None:
    """The member of a protobuf ``oneof`` that jsonpb keeps: ``(JSON name, value)`` of the
    last member given (not ``null``) in declaration order; ``members`` are (JSON name,
    protobuf name) pairs in that order. jsonpb sets each given member in turn, and setting
    a member of a oneof clears the others: several given members are not an error."""
    for json_name, proto_name in reversed(members):
        value = proto_field(message, json_name, proto_name)
        if value is not None:
            return json_name, value
    return None


_JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def proto_number(value: object) -> int | float | None:
    """A protobuf number as jsonpb reads it: a JSON number or one in quotes (``"8080"``,
    ``"1.5"``: jsonpb strips the quotes); None for anything else (the schema reports it)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _JSON_NUMBER.fullmatch(value):
        if value.lstrip("-").isdigit():
            return int(value)
        return float(value)
    return None


def is_present(message: Mapping[str, Any], json_name: str, proto_name: str | None = None) -> bool:
    """Go's "field is set" after protojson: given and not ``null``."""
    return proto_field(message, json_name, proto_name) is not None


def sub_message(
    message: Mapping[str, Any], json_name: str, proto_name: str | None = None
) -> Mapping[str, Any]:
    """A nested message, or an empty mapping when unset or of the wrong type."""
    value = proto_field(message, json_name, proto_name)
    return value if isinstance(value, dict) else {}


def duration_seconds(value: object) -> float | None:
    """Seconds of a protobuf Duration string (``"1.5s"``); None when absent or malformed."""
    return parse_duration(value) if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class TagRules:
    """Kuma's ``ValidateTagsOpts`` (the extra validators the legacy kinds use)."""

    at_least_one_tag: bool = False
    require_service: bool = False
    only_service: bool = False
    http_protocol: bool = False
    """FaultInjection destinations: ``kuma.io/protocol`` must be given and HTTP-based."""


SOURCES = TagRules(at_least_one_tag=True, require_service=True)
ANY_TAGS = TagRules(at_least_one_tag=True)
ONLY_SERVICE = TagRules(require_service=True, only_service=True)
HTTP_PROTOCOLS = ("http", "http2", "grpc")


def check_selectors(
    f: Findings, path: Path, value: object, rules: TagRules, *, required: bool = True
) -> None:
    """``ValidateSelectors``: a list of ``{match: tags}``, non-empty when ``required``."""
    if value is not None and not isinstance(value, list):
        return  # the schema reports the type
    selectors = value or []
    if required and not selectors:
        f.add(codes.LEGACY_SELECTOR, path, "must have at least one element")
    for i, selector in enumerate(selectors):
        if not isinstance(selector, dict):
            continue
        match = selector.get("match")
        if match is not None and not isinstance(match, dict):
            continue
        check_selector(f, (*path, i, "match"), match or {}, rules)


def check_selector(f: Findings, path: Path, tags: Mapping[str, Any], rules: TagRules) -> None:
    """``ValidateSelector``: tag values may be ``*``."""
    _check_tags(f, path, tags, rules, selector=True)


def check_tags(f: Findings, path: Path, tags: Mapping[str, Any], rules: TagRules) -> None:
    """``ValidateTags``: concrete tag values (no ``*``)."""
    _check_tags(f, path, tags, rules, selector=False)


def _check_tags(
    f: Findings, path: Path, tags: Mapping[str, Any], rules: TagRules, *, selector: bool
) -> None:
    if rules.at_least_one_tag and not tags:
        f.add(codes.LEGACY_SELECTOR, path, "must have at least one tag")
    if rules.only_service and (len(tags) != 1 or SERVICE_TAG not in tags):
        f.add(codes.LEGACY_SELECTOR, path, f'must consist of exactly one tag "{SERVICE_TAG}"')
    if rules.http_protocol:
        _check_http_protocol(f, path, tags)
    for key in sorted(tags):
        value = tags[key]
        if key == "":
            f.add(codes.NAME_FORMAT, path, "tag name must be non-empty")
        if not TAG_NAME.match(key):
            f.add(
                codes.NAME_FORMAT,
                (*path, MapKey(key)),
                "tag name must consist of alphanumeric characters, dots, dashes, slashes and "
                "underscores",
            )
        if rules.only_service and key != SERVICE_TAG:
            f.add(codes.LEGACY_SELECTOR, (*path, MapKey(key)), f'tag "{key}" is not allowed')
        if value is None:
            value = ""  # Kuma reads a null tag value as the empty string
        if not isinstance(value, str):
            continue  # the schema reports the type
        if value == "":
            f.add(codes.NAME_FORMAT, (*path, MapKey(key)), "tag value must be non-empty")
        if selector and not SELECTOR_VALUE.match(value):
            f.add(
                codes.NAME_FORMAT,
                (*path, MapKey(key)),
                "tag value must consist of alphanumeric characters, dots, dashes, slashes and "
                'underscores or be "*"',
            )
        if not selector and not TAG_VALUE.match(value):
            f.add(
                codes.NAME_FORMAT,
                (*path, MapKey(key)),
                "tag value must consist of alphanumeric characters, dots, dashes and underscores",
            )
    if rules.require_service and SERVICE_TAG not in tags:
        f.add(codes.LEGACY_SELECTOR, path, f'mandatory tag "{SERVICE_TAG}" is missing')


def _check_http_protocol(f: Findings, path: Path, tags: Mapping[str, Any]) -> None:
    """``ProtocolValidator(HTTPBasedProtocols)``."""
    if PROTOCOL_TAG not in tags:
        f.add(codes.LEGACY_SELECTOR, path, "protocol must be specified")
        return
    value = tags[PROTOCOL_TAG]
    if isinstance(value, str) and value.lower() not in HTTP_PROTOCOLS:
        f.add(
            codes.VALUE_NOT_ALLOWED,
            (*path, MapKey(PROTOCOL_TAG)),
            f"must be one of the [{', '.join(HTTP_PROTOCOLS)}]",
        )


DNS_NAME = re.compile(
    r"^([a-zA-Z0-9_]{1}[a-zA-Z0-9_-]{0,62}){1}(\.[a-zA-Z0-9_]{1}[a-zA-Z0-9_-]{0,62})*[\._]?$"
)


def is_dns_name(value: str) -> bool:
    """govalidator ``IsDNSName`` (which Kuma uses for addresses and generated hostnames)."""
    if value == "" or len(value.replace(".", "")) > 255 or is_ip(value):
        return False
    return DNS_NAME.match(value) is not None


def is_ip(value: str) -> bool:
    """Go's ``net.ParseIP(value) != nil`` (no zones, no prefixes)."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return "%" not in value
