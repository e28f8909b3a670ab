"""MeshAccessLog (Kuma 2.14 ``meshaccesslog/api/v1alpha1/validator.go``)."""

from __future__ import annotations

import re

from reconciler import codes
from reconciler.validate.rules import values as v
from reconciler.validate.rules.findings import Findings, Path, as_list, is_set
from reconciler.validate.rules.values import is_ip

BACKEND_TYPES = ("tcp", "file", "openTelemetry")
_HOST = re.compile(
    r"^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$"
)
TYPE_FIELDS = {"Tcp": "tcp", "File": "file", "OpenTelemetry": "openTelemetry"}


def check_default(f: Findings, path: Path, value: object, top: str) -> None:
    if not isinstance(value, dict):
        return  # an absent `default` is reported by the schema (required)
    backends = value.get("backends")
    if backends is None:
        f.add(codes.SETTING_MISSING, (*path, "backends"), "must be defined")
        return
    for i, backend in enumerate(as_list(backends)):
        if isinstance(backend, dict):
            _check_backend(f, (*path, "backends", i), backend)


def _check_backend(f: Findings, path: Path, backend: dict[str, object]) -> None:
    kind = backend.get("type")
    wanted = TYPE_FIELDS.get(kind) if isinstance(kind, str) else None
    if wanted is not None and backend.get(wanted) is None:
        f.add(codes.SETTING_MISSING, (*path, wanted), f"must be defined when type is {kind}")
    for name in BACKEND_TYPES:
        if wanted is not None and name != wanted and backend.get(name) is not None:
            f.add(
                codes.SETTINGS_CONFLICT, (*path, name), f"must not be defined when type is {kind}"
            )
    file = backend.get("file")
    if isinstance(file, dict):
        # an absent path is reported by the schema (required)
        v.file_path(
            f, (*path, "file", "path"), file.get("path"), "file backend requires a valid path"
        )
        _check_format(f, (*path, "file", "format"), file.get("format"))
    tcp = backend.get("tcp")
    if isinstance(tcp, dict):
        address = tcp.get("address")
        if isinstance(address, str) and not valid_tcp_address(address):
            f.add(
                codes.VALUE_NOT_ALLOWED,
                (*path, "tcp", "address"),
                "tcp backend requires valid address",
            )
        _check_format(f, (*path, "tcp", "format"), tcp.get("format"))
    otel = backend.get("openTelemetry")
    if isinstance(otel, dict):
        endpoint, ref = is_set(otel.get("endpoint")), otel.get("backendRef") is not None
        if endpoint and ref:
            f.add(
                codes.SETTINGS_CONFLICT,
                (*path, "openTelemetry"),
                "openTelemetry must have only one type defined: endpoint, backendRef",
            )
        elif not endpoint and not ref:
            f.add(
                codes.SETTING_MISSING,
                (*path, "openTelemetry"),
                "openTelemetry must have exactly one defined: endpoint, backendRef",
            )


def valid_tcp_address(address: str) -> bool:
    """A URL or ``host:port`` whose host is a DNS name or an IP (govalidator ``IsURL``)."""
    rest = address.split("://", 1)[1] if "://" in address else address
    host = rest.split("/", 1)[0]
    if host.startswith("["):
        return "]" in host
    host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return bool(host) and (is_ip(host) or bool(_HOST.match(host)))


def _check_format(f: Findings, path: Path, value: object) -> None:
    if not isinstance(value, dict):
        return
    kind = value.get("type")
    plain, json = value.get("plain"), value.get("json")
    if plain is not None and json is not None:
        f.add(codes.SETTINGS_CONFLICT, path, "format must have only one type defined: plain, json")
    if kind == "Plain" and plain is None:
        f.add(codes.SETTING_MISSING, (*path, "plain"), "must be defined")
    elif kind == "Plain" and plain == "":
        f.add(codes.SETTING_MISSING, (*path, "plain"), "must not be empty")
    if kind == "Json" and json is None:
        f.add(codes.SETTING_MISSING, (*path, "json"), "must be defined")
    elif kind == "Json" and json == []:
        f.add(codes.SETTING_MISSING, (*path, "json"), "must not be empty")
    for i, item in enumerate(as_list(json)):
        if not isinstance(item, dict):
            continue
        key = item.get("key")
        if key == "":  # an absent key or value is reported by the schema (required)
            f.add(codes.SETTING_MISSING, (*path, "json", i, "key"), "key cannot be empty")
        elif isinstance(key, str) and '"' in key:
            f.add(codes.VALUE_NOT_ALLOWED, (*path, "json", i), "is not a valid JSON object")
        if item.get("value") == "":
            f.add(codes.SETTING_MISSING, (*path, "json", i, "value"), "value cannot be empty")
