"""MeshAccessLog (Kuma 2.14 ``meshaccesslog/api/v1alpha1/validator.go``)."""

from __future__ import annotations

import json

from reconciler import codes
from reconciler.validate.rules import otel
from reconciler.validate.rules import values as v
from reconciler.validate.rules.addresses import is_url
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map

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
        f.add(codes.SETTING_MISSING, (*path, wanted), "must be defined")
    # Kuma reads only the block of the backend's type; the others are ignored, not rejected
    file = backend.get("file")
    if wanted == "file" and isinstance(file, dict):
        # an absent path is reported by the schema (required)
        v.file_path(
            f, (*path, "file", "path"), file.get("path"), "file backend requires a valid path"
        )
        _check_format(f, (*path, "file", "format"), file.get("format"))
    tcp = backend.get("tcp")
    if wanted == "tcp" and isinstance(tcp, dict):
        address = tcp.get("address")
        if isinstance(address, str) and not is_url(address):
            f.add(
                codes.VALUE_NOT_ALLOWED,
                (*path, "tcp", "address"),
                "tcp backend requires valid address",
            )
        _check_format(f, (*path, "tcp", "format"), tcp.get("format"))
    conf = backend.get("openTelemetry")
    if wanted == "openTelemetry" and isinstance(conf, dict):
        otel.check_backend_ref_or_endpoint(f, (*path, "openTelemetry"), conf)
        for i, attribute in enumerate(as_list(conf.get("attributes"))):
            key = as_map(attribute).get("key")
            if isinstance(key, str):
                otel.check_attribute_name(f, (*path, "openTelemetry", "attributes", i, "key"), key)


def _check_format(f: Findings, path: Path, value: object) -> None:
    if not isinstance(value, dict):
        return
    kind = value.get("type")
    plain, json_fields = value.get("plain"), value.get("json")
    if kind == "Plain" and plain is None:
        f.add(codes.SETTING_MISSING, (*path, "plain"), "must be defined")
    elif kind == "Plain" and plain == "":
        f.add(codes.SETTING_MISSING, (*path, "plain"), "must not be empty")
    if kind == "Json" and json_fields is None:
        f.add(codes.SETTING_MISSING, (*path, "json"), "must be defined")
    elif kind == "Json" and json_fields == []:
        f.add(codes.SETTING_MISSING, (*path, "json"), "must not be empty")
    for i, item in enumerate(as_list(json_fields) if kind == "Json" else ()):
        if not isinstance(item, dict):
            continue
        key, value = item.get("key"), item.get("value")
        if key == "":  # an absent key or value is reported by the schema (required)
            f.add(codes.SETTING_MISSING, (*path, "json", i, "key"), "key cannot be empty")
        if value == "":
            f.add(codes.SETTING_MISSING, (*path, "json", i, "value"), "value cannot be empty")
        if isinstance(key, str) and isinstance(value, str) and not _json_pair(key, value):
            f.add(codes.VALUE_NOT_ALLOWED, (*path, "json", i), "is not a valid JSON object")


def _json_pair(key: str, value: str) -> bool:
    """govalidator ``IsJSON`` of Kuma's ``{"<key>": "<value>"}``, pasted without escaping."""
    try:
        json.loads('{"' + key + '": "' + value + '"}')
    except ValueError:
        return False
    return True
