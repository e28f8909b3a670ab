"""Mesh ``logging``, ``tracing``, ``metrics``, ``constraints`` and ``routing`` (Kuma 2.14).

The reconciler applies none of them (``not_applied.py`` warns), but a Mesh that Kuma would
reject must be rejected here too, with Kuma's messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler import codes
from reconciler.kinds.mesh.prometheus import check_prometheus
from reconciler.validate.rules.addresses import parse_request_uri, split_host_port
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map, is_number, is_set
from reconciler.validate.rules.targetrefs import check_tags

ZIPKIN_API_VERSIONS = ("httpJsonV1", "httpJson", "httpProto")


def check(f: Findings, data: Mapping[str, Any]) -> None:
    for section, check_backend in (("logging", _logging_backend), ("tracing", _tracing_backend)):
        conf = data.get(section)
        if isinstance(conf, dict):
            found = Findings(f.resource)
            for i, backend in enumerate(as_list(conf.get("backends"))):
                if isinstance(backend, dict):
                    check_backend(found, (section, "backends", i), backend)
            # Kuma names a backend's ``conf`` "config" in these two sections
            f.merge_renamed(found, ".conf.", ".config.")
    metrics = data.get("metrics")
    if isinstance(metrics, dict):
        for i, backend in enumerate(as_list(metrics.get("backends"))):
            b = as_map(backend)
            path = ("metrics", "backends", i)
            if b.get("type") != "prometheus":
                f.add(
                    codes.VALUE_NOT_ALLOWED,
                    (*path, "type"),
                    'unknown backend type. Available backends: "prometheus"',
                )
            else:
                check_prometheus(f, (*path, "conf"), b.get("conf"))
    _constraints(f, as_map(as_map(data.get("constraints")).get("dataplaneProxy")))
    egress = as_map(data.get("routing")).get("zoneEgress") is True
    if egress and not is_set(as_map(data.get("mtls")).get("enabledBackend")):
        f.add(codes.MESH_MTLS, ("mtls",), "has to be set when zoneEgress enabled")


def _name(f: Findings, path: Path, backend: Mapping[str, Any]) -> None:
    if backend.get("name") in (None, ""):
        f.add(codes.SETTING_MISSING, (*path, "name"), "cannot be empty")


def _unknown_type(f: Findings, path: Path, *types: str) -> None:
    listed = ", ".join(f'"{t}"' for t in types)
    f.add(
        codes.VALUE_NOT_ALLOWED,
        (*path, "type"),
        f"unknown backend type. Available backends: {listed}",
    )


def _logging_backend(f: Findings, path: Path, backend: Mapping[str, Any]) -> None:
    _name(f, path, backend)
    kind = backend.get("type")
    conf = as_map(backend.get("conf"))
    if kind == "tcp":
        address = conf.get("address")
        if address in (None, ""):
            f.add(codes.SETTING_MISSING, (*path, "conf", "address"), "cannot be empty")
        elif isinstance(address, str):
            parts = split_host_port(address)
            if parts is None or not parts[0] or not parts[1]:
                f.add(
                    codes.VALUE_NOT_ALLOWED,
                    (*path, "conf", "address"),
                    "has to be in format of HOST:PORT",
                )
    elif kind == "file":
        if conf.get("path") in (None, ""):
            f.add(codes.SETTING_MISSING, (*path, "conf", "path"), "cannot be empty")
    else:
        _unknown_type(f, path, "tcp", "file")


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
            parsed = parse_request_uri(url)
            if parsed is None:
                f.add(codes.VALUE_NOT_ALLOWED, (*path, "conf", "url"), "invalid URL")
            elif parsed.port == "":
                f.add(
                    codes.VALUE_NOT_ALLOWED,
                    (*path, "conf", "url"),
                    "port has to be explicitly specified",
                )
    elif kind == "datadog":
        if conf.get("address") in (None, ""):
            f.add(codes.SETTING_MISSING, (*path, "conf", "address"), "cannot be empty")
        check_port(f, (*path, "conf", "port"), conf.get("port"))
    else:
        _unknown_type(f, path, "zipkin", "datadog")


def check_port(f: Findings, path: Path, value: object) -> None:
    """Kuma ``ValidatePort``; an omitted port is 0."""
    if value is None or (is_number(value) and not 1 <= value <= 65535):
        f.add(codes.NUMBER_RANGE, path, "port must be in the range [1, 65535]")


def _constraints(f: Findings, proxy: Mapping[str, Any]) -> None:
    for section in ("requirements", "restrictions"):
        for i, item in enumerate(as_list(proxy.get(section))):
            path = ("constraints", "dataplaneProxy", section, i, "tags")
            tags = as_map(item).get("tags")
            if not is_set(tags):
                f.add(codes.SETTING_MISSING, path, "must have at least one tag")
            check_tags(f, path, tags, selector=True)
