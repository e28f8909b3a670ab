"""Parse the Envoy configuration a ProxyTemplate carries as YAML text, as Kuma does.

Kuma turns the YAML into JSON and reads it with protojson into the Envoy message the place
expects (unknown fields are dropped). This module does the same with the Envoy protos of
``xds-protos``, loading the package of an ``Any``'s type when a value names it. Kuma knows
the Envoy v3 API: an Envoy type that does not exist, or one of the removed v2 API, is an
error; a type outside Envoy's API (an extension Kuma may have compiled in) is accepted
rather than rejected by guesswork. Kuma also runs the protos' PGV rules on added
resources; those are not reproduced.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import re
from typing import Any

import yaml
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.endpoint.v3 import endpoint_pb2
from envoy.config.listener.v3 import listener_components_pb2, listener_pb2
from envoy.config.route.v3 import route_components_pb2, route_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2,
)
from envoy.extensions.transport_sockets.tls.v3 import secret_pb2
from google.protobuf import any_pb2, descriptor_pool, json_format
from google.protobuf.message import Message

MESSAGES: dict[str, type[Message]] = {
    "cluster": cluster_pb2.Cluster,
    "listener": listener_pb2.Listener,
    "networkFilter": listener_components_pb2.Filter,
    "httpFilter": http_connection_manager_pb2.HttpFilter,
    "virtualHost": route_components_pb2.VirtualHost,
}
"""The Envoy message of each modification kind (Kuma's ``proxytemplate_validator.go``)."""

RAW_TYPES = (
    cluster_pb2.Cluster,
    listener_pb2.Listener,
    route_pb2.RouteConfiguration,
    endpoint_pb2.ClusterLoadAssignment,
    secret_pb2.Secret,
)
"""Resource types a raw resource (an ``Any`` with ``@type``) may name; importing them
registers them with the protobuf type registry."""

UNKNOWN_TYPE = re.compile(r"Can not find message descriptor by type_url: (\S+)")
V2_PACKAGE = re.compile(r"^envoy\.(api\.v2|config\.filter)\b|\.v2(alpha\d*)?(\.|$)")
"""Envoy v2 API packages, which Kuma 2.14 (go-control-plane v3 only) does not know."""
MAX_TYPE_LOADS = 32
"""Packages loaded for one value at most (each retry resolves one more ``Any``)."""


def _load_type(name: str) -> bool:
    """Import the xds-protos package of the message ``name``; True if it now resolves."""
    package = name.rpartition(".")[0]
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return False
    if spec is None or not spec.submodule_search_locations:
        return False
    for info in sorted(pkgutil.iter_modules(spec.submodule_search_locations), key=lambda i: i.name):
        if info.name.endswith("_pb2"):
            importlib.import_module(f"{package}.{info.name}")
    try:
        descriptor_pool.Default().FindMessageTypeByName(name)
    except KeyError:
        return False
    return True


def _unknown_type(url: str) -> str | None:
    """The problem with an ``Any`` type the loaded protos do not know (None: accept it)."""
    name = url.rpartition("/")[2]
    if not name.startswith("envoy."):
        return None
    if V2_PACKAGE.search(name.rpartition(".")[0]) or not _load_type(name):
        return f'unable to resolve "{url}": "not found"'
    return ""  # loaded now: parse again


def _document(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ValueError(f"invalid YAML: {error}".replace("\n", " ")) from error


def problem(text: str, message: type[Message] | None) -> str | None:
    """Why ``text`` is not a valid ``message`` (an ``Any`` when None), or None if it is."""
    try:
        document = _document(text)
    except ValueError as error:
        return str(error)
    if not isinstance(document, dict):
        return "the resource must be a YAML mapping"
    if message is None and "@type" not in document:
        return "the resource must name its type in '@type'"
    for _ in range(MAX_TYPE_LOADS):
        target: Message = message() if message is not None else any_pb2.Any()
        try:
            json_format.ParseDict(document, target, ignore_unknown_fields=True)
        except json_format.ParseError as error:
            unknown = UNKNOWN_TYPE.search(str(error))
            if unknown is None:
                return str(error)
            reason = _unknown_type(unknown.group(1))
            if reason != "":
                return reason
        except (TypeError, ValueError) as error:
            return str(error)
        else:
            return None
    return None
