"""MeshTrace (Kuma 2.14 ``meshtrace/api/v1alpha1/validator.go``).

The top-level targetRef is the shared opening; this is ``validateDefault``: one backend at
most (Zipkin ``url`` a URL, Datadog ``url`` an ``http://host:port`` collector address,
OpenTelemetry an ``endpoint`` or a ``backendRef``), custom tags from a header or a literal,
and sampling percentages in [0, 100].
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler import codes
from reconciler.model import Resource
from reconciler.validate.rules import otel
from reconciler.validate.rules.addresses import is_url, parse_request_uri
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map
from reconciler.validate.rules.values import decimal_value

_PORT_RANGE = "port must be a valid (1-65535)"
_BACKEND_FIELDS = {"Zipkin": "zipkin", "Datadog": "datadog", "OpenTelemetry": "openTelemetry"}


def check(f: Findings, resource: Resource) -> None:
    conf = resource.spec.get("default")
    if conf is not None and not isinstance(conf, dict):
        return  # the schema reports the type
    default = as_map(conf)
    path: Path = ("default",)
    backends = default.get("backends")
    if backends is None:
        f.add(codes.SETTING_MISSING, (*path, "backends"), "must be defined")
    elif isinstance(backends, list) and len(backends) > 1:
        f.add(codes.VALUE_NOT_ALLOWED, (*path, "backends"), "must have zero or one backend defined")
    elif isinstance(backends, list) and len(backends) == 1 and isinstance(backends[0], dict):
        _check_backend(f, (*path, "backends", 0), backends[0])
    for i, tag in enumerate(as_list(default.get("tags"))):
        if isinstance(tag, dict):
            _check_tag(f, (*path, "tags", i), tag)
    sampling = default.get("sampling")
    if isinstance(sampling, dict):
        for name in ("client", "random", "overall"):
            _check_sampling(f, (*path, "sampling", name), sampling.get(name))


def _check_backend(f: Findings, path: Path, backend: Mapping[str, Any]) -> None:
    kind = backend.get("type")
    field = _BACKEND_FIELDS.get(kind) if isinstance(kind, str) else None
    if field is None:
        return  # absent or unknown type: the schema reports it
    conf = backend.get(field)
    if conf is None:
        f.add(codes.SETTING_MISSING, (*path, field), "must be defined")
        return
    if not isinstance(conf, dict):
        return
    if field == "zipkin":
        url = conf.get("url")
        if url == "":
            f.add(codes.SETTING_MISSING, (*path, field, "url"), "must not be empty")
        elif isinstance(url, str) and not is_url(url):
            f.add(codes.VALUE_NOT_ALLOWED, (*path, field, "url"), "must be a valid url")
    elif field == "datadog":
        url = conf.get("url")
        if isinstance(url, str):
            _check_datadog_url(f, (*path, field, "url"), url)
    else:
        otel.check_backend_ref_or_endpoint(f, (*path, field), conf)


def _check_datadog_url(f: Findings, path: Path, url: str) -> None:
    """Kuma's Datadog collector address: ``http://host:port`` and nothing else."""
    parsed = parse_request_uri(url)
    if parsed is None:
        f.add(codes.VALUE_NOT_ALLOWED, path, "must be a valid url")
        return
    if parsed.scheme != "http":
        f.add(codes.VALUE_NOT_ALLOWED, path, "scheme must be http")
    port = parsed.port
    if port == "":
        f.add(codes.SETTING_MISSING, path, "port must be defined")
    elif not 0 < int(port) <= 65535:
        f.add(codes.NUMBER_RANGE, path, _PORT_RANGE)
    extras = (
        ("opaque", parsed.opaque),
        ("user", "@" if parsed.user else ""),
        ("path", parsed.path),
        ("query", parsed.raw_query),
        ("fragment", parsed.fragment),
    )
    for name, value in extras:
        if value:
            f.add(codes.VALUE_NOT_ALLOWED, path, f"{name} must not be defined")


def _check_tag(f: Findings, path: Path, tag: Mapping[str, Any]) -> None:
    if tag.get("name") == "":
        f.add(codes.SETTING_MISSING, (*path, "name"), "must not be empty")
    if (tag.get("header") is not None) == (tag.get("literal") is not None):
        f.add(codes.SETTINGS_CONFLICT, path, "tag must have only one type defined: header, literal")


def _check_sampling(f: Findings, path: Path, value: object) -> None:
    if value is None or isinstance(value, bool) or not isinstance(value, str | int | float):
        return  # absent, or a type the schema reports
    number = decimal_value(value)
    if number is None:
        f.add(codes.NUMBER_RANGE, path, "string is not a number")
    elif not 0 <= number <= 100:
        f.add(codes.NUMBER_RANGE, path, "must be between 0 and 100")
