"""MeshOpenTelemetryBackend (Kuma 2.14 ``meshopentelemetrybackend/api/v1alpha1/validator.go``).

The endpoint (address, port, path under the chosen protocol). The protocol and the env
policy's mode and precedence are enums of the schema, as in Kuma's REST schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler import codes
from reconciler.model import Resource
from reconciler.validate.rules.findings import Findings, Path, is_number
from reconciler.validate.rules.values import is_dns_name, is_go_ip

GRPC = "grpc"


def check(f: Findings, resource: Resource) -> None:
    spec = resource.spec
    protocol = spec.get("protocol")
    if protocol is None:
        protocol = GRPC
    endpoint = spec.get("endpoint")
    if isinstance(endpoint, dict):
        _check_endpoint(f, ("endpoint",), endpoint, protocol)


def _check_endpoint(f: Findings, path: Path, endpoint: Mapping[str, Any], protocol: object) -> None:
    address = endpoint.get("address")
    if address == "":
        f.add(codes.SETTING_MISSING, (*path, "address"), "must not be empty")
    elif isinstance(address, str) and not (is_go_ip(address) or is_dns_name(address)):
        f.add(codes.NAME_FORMAT, (*path, "address"), "address has to be a valid IP or hostname")
    port = endpoint.get("port")
    if is_number(port) and not 1 <= port <= 65535:
        f.add(codes.NUMBER_RANGE, (*path, "port"), "port must be a valid (1-65535)")
    url_path = endpoint.get("path")
    if not isinstance(url_path, str) or url_path == "":
        return
    if protocol in (GRPC, ""):
        f.add(codes.SETTINGS_CONFLICT, (*path, "path"), "must not be set when protocol is grpc")
        return
    if not url_path.startswith("/"):
        f.add(codes.VALUE_NOT_ALLOWED, (*path, "path"), "must start with /")
    if "?" in url_path or "#" in url_path:
        f.add(codes.VALUE_NOT_ALLOWED, (*path, "path"), "must not contain query or fragment")
