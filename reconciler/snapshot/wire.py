"""Hand-encoded protobuf wire format for xDS responses built from shared, pre-serialized bytes.

Concatenated protobuf encodings merge, so a response body encoded once can be sent to many
streams with each stream's ``nonce`` appended as one more field. Field numbers below are those
of ``envoy.service.discovery.v3`` (checked by the unit tests against the real messages).
"""

from __future__ import annotations

from collections.abc import Iterable

# google.protobuf.Any
ANY_TYPE_URL = 1
ANY_VALUE = 2
# DiscoveryResponse
SOTW_VERSION_INFO = 1
SOTW_RESOURCES = 2
SOTW_TYPE_URL = 4
SOTW_NONCE = 5
# DeltaDiscoveryResponse
DELTA_SYSTEM_VERSION_INFO = 1
DELTA_RESOURCES = 2
DELTA_TYPE_URL = 4
DELTA_NONCE = 5
DELTA_REMOVED_RESOURCES = 6
# discovery.v3.Resource
RESOURCE_VERSION = 1
RESOURCE_ANY = 2
RESOURCE_NAME = 3

_LENGTH_DELIMITED = 2


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        bits = value & 0x7F
        value >>= 7
        if value:
            out.append(bits | 0x80)
        else:
            out.append(bits)
            return bytes(out)


def field_bytes(number: int, payload: bytes) -> bytes:
    """One length-delimited field (string, bytes or embedded message)."""
    return varint((number << 3) | _LENGTH_DELIMITED) + varint(len(payload)) + payload


def field_str(number: int, text: str) -> bytes:
    return field_bytes(number, text.encode()) if text else b""


def any_message(type_url: str, value: bytes) -> bytes:
    """The encoding of ``google.protobuf.Any{type_url, value}``."""
    return field_str(ANY_TYPE_URL, type_url) + field_bytes(ANY_VALUE, value)


def delta_resource(name: str, version: str, any_bytes: bytes) -> bytes:
    """The encoding of ``discovery.v3.Resource{name, version, resource}``."""
    return (
        field_str(RESOURCE_VERSION, version)
        + field_bytes(RESOURCE_ANY, any_bytes)
        + field_str(RESOURCE_NAME, name)
    )


def sotw_body(version: str, type_url: str, any_entries: Iterable[bytes]) -> bytes:
    """A DiscoveryResponse without its nonce: append :func:`nonce_suffix` per stream."""
    parts = [field_str(SOTW_VERSION_INFO, version)]
    parts.extend(field_bytes(SOTW_RESOURCES, entry) for entry in any_entries)
    parts.append(field_str(SOTW_TYPE_URL, type_url))
    return b"".join(parts)


def delta_resource_field(name: str, version: str, any_bytes: bytes) -> bytes:
    """One ``resources`` entry of a DeltaDiscoveryResponse, field tag included."""
    return field_bytes(DELTA_RESOURCES, delta_resource(name, version, any_bytes))


def delta_body(
    system_version: str,
    type_url: str,
    resource_fields: Iterable[bytes],
    removed: Iterable[str] = (),
) -> bytes:
    """A DeltaDiscoveryResponse without its nonce (fields from :func:`delta_resource_field`)."""
    parts = [field_str(DELTA_SYSTEM_VERSION_INFO, system_version)]
    parts.extend(resource_fields)
    parts.append(field_str(DELTA_TYPE_URL, type_url))
    parts.extend(field_bytes(DELTA_REMOVED_RESOURCES, name.encode()) for name in removed)
    return b"".join(parts)


def nonce_suffix(nonce: str, *, delta: bool = False) -> bytes:
    return field_str(DELTA_NONCE if delta else SOTW_NONCE, nonce)
