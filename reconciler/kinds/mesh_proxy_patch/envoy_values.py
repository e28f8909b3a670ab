"""Native Envoy resources in a MeshProxyPatch ``value``: do they parse as their proto?

Kuma (``mesh.ValidateResourceYAML``) converts the YAML to JSON and unmarshals it with
protojson into the resource's message, discarding unknown fields; a ``google.protobuf.Any``
must name a type Envoy knows. Messages of typed configs are loaded on demand from the
Envoy proto package their type URL names, so only what a patch uses is imported.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from enum import StrEnum

import yaml
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.listener.v3 import listener_components_pb2, listener_pb2
from envoy.config.route.v3 import route_components_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as hcm,
)
from google.protobuf import json_format, symbol_database
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from reconciler.kinds.mesh_proxy_patch import envoy_rules

_MAX_TYPE_LOADS = 8
"""Any types nested in one value loaded before giving up (each is one import)."""


class Resource(StrEnum):
    """What a modification edits: the field name in ``appendModifications[]``."""

    CLUSTER = "cluster"
    LISTENER = "listener"
    VIRTUAL_HOST = "virtualHost"
    NETWORK_FILTER = "networkFilter"
    HTTP_FILTER = "httpFilter"


_MESSAGES: dict[Resource, Callable[[], Message]] = {
    Resource.CLUSTER: cluster_pb2.Cluster,
    Resource.LISTENER: listener_pb2.Listener,
    Resource.VIRTUAL_HOST: route_components_pb2.VirtualHost,
    Resource.NETWORK_FILTER: listener_components_pb2.Filter,
    Resource.HTTP_FILTER: hcm.HttpFilter,
}


def parse_error(resource: Resource, value: str, *, rules: bool = False) -> str | None:
    """Why ``value`` is not a valid ``resource`` (Kuma's wording follows), or None.

    ``rules``: also check the protos' ``validate.rules`` (Kuma does for an added resource,
    not for a patch, which is partial by nature).
    """
    try:
        document = yaml.safe_load(value)
    except yaml.YAMLError as exc:
        return f"invalid YAML: {str(exc).splitlines()[0]}"
    if not isinstance(document, dict):
        return "expected a mapping of the resource's fields"
    message = _MESSAGES[resource]()
    shape = _shape_error(message.DESCRIPTOR, document, message.DESCRIPTOR.name)
    if shape is not None:
        return shape
    tried: set[str] = set()
    for _ in range(_MAX_TYPE_LOADS + 1):
        parsed = _MESSAGES[resource]()
        try:
            json_format.ParseDict(document, parsed, ignore_unknown_fields=True)
        except json_format.ParseError as exc:
            missing = _unknown_type(str(exc))
            if missing is None or missing in tried or not _load(missing):
                return str(exc)
            tried.add(missing)
        else:
            return envoy_rules.violation(parsed) if rules else None
    return "too many typed configs"


def _shape_error(descriptor: Descriptor, value: dict[object, object], where: str) -> str | None:
    """A message field given something other than a mapping (protojson rejects it; Python's
    parser would read a string as an empty message)."""
    fields = {**descriptor.fields_by_name, **{f.json_name: f for f in descriptor.fields}}
    for key, item in value.items():
        field = fields.get(str(key))
        if field is None or field.type != FieldDescriptor.TYPE_MESSAGE or item is None:
            continue
        sub = field.message_type
        path = f"{where}.{key}"
        if sub.GetOptions().map_entry:
            if not isinstance(item, dict):
                return f"expected a mapping for field {path}"
            entry = sub.fields_by_name["value"]
            if entry.type == FieldDescriptor.TYPE_MESSAGE:
                for name, element in item.items():
                    error = _message_error(entry.message_type, element, f"{path}[{name}]")
                    if error is not None:
                        return error
            continue
        repeated = field.is_repeated
        if repeated and not isinstance(item, list):
            return f"expected a list for field {path}"
        elements: list[object] = item if isinstance(item, list) else [item]
        for i, element in enumerate(elements):
            where_i = f"{path}[{i}]" if repeated else path
            error = _message_error(sub, element, where_i)
            if error is not None:
                return error
    return None


def _message_error(descriptor: Descriptor, value: object, where: str) -> str | None:
    if descriptor.full_name.startswith("google.protobuf."):
        return None  # well-known types (Duration, Struct, Any...): special JSON forms
    if not isinstance(value, dict):
        return f"expected a mapping for field {where}"
    return _shape_error(descriptor, value, where)


def _unknown_type(message: str) -> str | None:
    marker = "Can not find message descriptor by type_url: "
    if marker not in message:
        return None
    url = message.split(marker, 1)[1].split()[0].rstrip(".,")
    return url.rsplit("/", 1)[-1]


def _load(full_name: str) -> bool:
    """Import the ``*_pb2`` modules of the proto package defining ``full_name``."""
    package = full_name.rsplit(".", 1)[0]
    try:
        module = importlib.import_module(package)
    except ImportError:
        return False
    for info in pkgutil.iter_modules(getattr(module, "__path__", [])):
        if info.name.endswith("_pb2"):
            importlib.import_module(f"{package}.{info.name}")
    try:
        symbol_database.Default().pool.FindMessageTypeByName(full_name)
    except KeyError:
        return False
    return True
