"""Mesh ``logging``, ``tracing``, ``metrics``, ``constraints`` and ``routing`` (Kuma 2.14).

The reconciler applies none of them (``unsupported.py`` warns), but a Mesh that Kuma would
reject must be rejected here too, with Kuma's messages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from reconciler import codes
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map, is_number, is_set
from reconciler.validate.rules.targetrefs import check_tags

METRICS_TYPES = ("prometheus",)
ZIPKIN_API_VERSIONS = ("httpJsonV1", "httpJson", "httpProto")
_HOST_PORT = re.compile(r"^(?P<host>\[[^\]]+\]|[^:]+):(?P<port>\d+)$")


def check(f: Findings, data: Mapping[str, Any]) -> None:
    logging = data.get("logging")
    if isinstance(logging, dict):
        for i, backend in enumerate(as_list(logging.get("backends"))):
            if isinstance(backend, dict):
                _logging_backend(f, ("logging", "backends", i), backend)
    tracing = data.get("tracing")
    if isinstance(tracing, dict):
        for i, backend in enumerate(as_list(tracing.get("backends"))):
            if isinstance(backend, dict):
                _tracing_backend(f, ("tracing", "backends", i), backend)
    metrics = data.get("metrics")
    if isinstance(metrics, dict):
        for i, backend in enumerate(as_list(metrics.get("backends"))):
            kind = as_map(backend).get("type")
            if isinstance(kind, str) and kind not in METRICS_TYPES:
                f.add(
                    codes.VALUE_NOT_ALLOWED,
                    ("metrics", "backends", i, "type"),
                    'unknown backend type. Available backends: "prometheus"',
                )
    _constraints(f, as_map(as_map(data.get("constraints")).get("dataplaneProxy")))
    egress = as_map(data.get("routing")).get("zoneEgress") is True
    if egress and not is_set(as_map(data.get("mtls")).get("enabledBackend")):
        f.add(codes.MESH_MTLS, ("mtls",), "has to be set when zoneEgress enabled")


def _name(f: Findings, path: Path, backend: Mapping[str, Any]) -> None:
    if backend.get("name") in (None, ""):
        f.add(codes.SETTING_MISSING, (*path, "name"), "cannot be empty")


def _logging_backend(f: Findings, path: Path, backend: Mapping[str, Any]) -> None:
    _name(f, path, backend)
    kind = backend.get("type")
    conf = as_map(backend.get("conf"))
    if kind == "tcp":
        address = conf.get("address")
        if address in (None, ""):
            f.add(codes.SETTING_MISSING, (*path, "conf", "address"), "cannot be empty")
        elif isinstance(address, str) and not _HOST_PORT.match(address):
            f.add(
                codes.VALUE_NOT_ALLOWED,
                (*path, "conf", "address"),
                "has to be in format of HOST:PORT",
            )
    elif kind == "file":
        if conf.get("path") in (None, ""):
            f.add(codes.SETTING_MISSING, (*path, "conf", "path"), "cannot be empty")
    elif isinstance(kind, str):
        f.add(
            codes.VALUE_NOT_ALLOWED,
            (*path, "type"),
            'unknown backend type. Available backends: "tcp", "file"',
        )


def _tracing_backend(f: Findings, path: Path, backend: Mapping[str, Any]) -> None:
    _name(f, path, backend)
    sampling = backend.get("sampling")
    if is_number(sampling) and not 0.0 <= sampling <= 100.0:
        f.add(codes.NUMBER_RANGE, (*path, "sampling"), "has to be in [0.0 - 100.0] range")
    kind = backend.get("type")
    conf = as_map(backend.get("conf"))
    if kind == "zipkin":
        version = conf.get("apiVersion")
        if isinstance(version, str) and version and version not in ZIPKIN_API_VERSIONS:
            f.add(
                codes.VALUE_NOT_ALLOWED,
                (*path, "conf", "apiVersion"),
                f"has invalid value. Allowed values: {', '.join(ZIPKIN_API_VERSIONS)}",
            )
        url = conf.get("url")
        if url in (None, ""):
            f.add(codes.SETTING_MISSING, (*path, "conf", "url"), "cannot be empty")
        elif isinstance(url, str):
            _zipkin_url(f, (*path, "conf", "url"), url)
    elif kind == "datadog":
        address = conf.get("address")
        if address in (None, ""):
            f.add(codes.SETTING_MISSING, (*path, "conf", "address"), "cannot be empty")
    elif isinstance(kind, str):
        f.add(
            codes.VALUE_NOT_ALLOWED,
            (*path, "type"),
            'unknown backend type. Available backends: "zipkin", "datadog"',
        )


def _zipkin_url(f: Findings, path: Path, url: str) -> None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        f.add(codes.VALUE_NOT_ALLOWED, path, "invalid URL")
        return
    if not parts.scheme or not parts.netloc:
        f.add(codes.VALUE_NOT_ALLOWED, path, "invalid URL")
    elif port is None:
        f.add(codes.VALUE_NOT_ALLOWED, path, "port has to be explicitly specified")


def _constraints(f: Findings, proxy: Mapping[str, Any]) -> None:
    for section in ("requirements", "restrictions"):
        for i, item in enumerate(as_list(proxy.get(section))):
            path = ("constraints", "dataplaneProxy", section, i, "tags")
            tags = as_map(item).get("tags")
            if not is_set(tags):
                f.add(codes.SETTING_MISSING, path, "must have at least one tag")
            check_tags(f, path, tags, selector=True)
