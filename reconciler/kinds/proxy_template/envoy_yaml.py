"""Parse the Envoy configuration a ProxyTemplate carries as YAML text, as Kuma does.

Kuma turns the YAML into JSON and reads it with protojson into the Envoy message the place
expects (unknown fields are dropped). This module does the same with the Envoy protos of
``xds-protos``. A nested ``Any`` whose type is not among the protos loaded here cannot be
checked: such a value is accepted rather than rejected by guesswork. Kuma also runs the
protos' PGV rules on added resources; those are not reproduced.
"""

from __future__ import annotations

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
from google.protobuf import any_pb2, json_format
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

UNKNOWN_TYPE = "Can not find message descriptor by type_url"


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
    target: Message = message() if message is not None else any_pb2.Any()
    if message is None and "@type" not in document:
        return "the resource must name its type in '@type'"
    try:
        json_format.ParseDict(document, target, ignore_unknown_fields=True)
    except json_format.ParseError as error:
        text = str(error)
        return None if UNKNOWN_TYPE in text else text
    except (TypeError, ValueError) as error:
        return str(error)
    return None
