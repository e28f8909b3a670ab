"""MeshMetric (Kuma 2.14 ``meshmetric/api/v1alpha1/validator.go``).

The top-level targetRef is the shared opening; this is ``validateDefault``: sidecar profile
selectors (a ``Regex`` must compile), application and Prometheus ports, and the
OpenTelemetry collector (``endpoint`` as ``host:port``, or a ``backendRef``).

Field paths are Kuma's, including its quirks: backend and application entries are reported
as ``backends.backend[i]`` and ``applications.application[i]``, and a Prometheus port
as ``backends.backend[i].port``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler import codes
from reconciler.model import Resource
from reconciler.validate.rules import go_regexp, otel
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map, is_number

_PORT_RANGE = "port must be a valid (1-65535)"
_PROFILES = ("All", "None", "Basic")
_SELECTOR_TYPES = ("Regex", "Prefix", "Exact", "Contains")


def check(f: Findings, resource: Resource) -> None:
    conf = resource.spec.get("default")
    if not isinstance(conf, dict):
        return  # absent: nothing to check; another type: the schema reports it
    path: Path = ("default",)
    sidecar = conf.get("sidecar")
    if isinstance(sidecar, dict):
        _check_profiles(f, (*path, "sidecar", "profiles"), sidecar.get("profiles"))
    for i, app in enumerate(as_list(conf.get("applications"))):
        if isinstance(app, dict):
            _port(f, (*path, "applications", "application", i), app.get("port"))
    for i, backend in enumerate(as_list(conf.get("backends"))):
        if isinstance(backend, dict):
            _check_backend(f, (*path, "backends", "backend", i), backend)


def _check_profiles(f: Findings, path: Path, profiles: object) -> None:
    if not isinstance(profiles, dict):
        return
    for name in ("exclude", "include"):
        for i, selector in enumerate(as_list(profiles.get(name))):
            if isinstance(selector, dict):
                _check_selector(f, (*path, name, i), selector)
    for i, profile in enumerate(as_list(profiles.get("appendProfiles"))):
        value = as_map(profile).get("name")
        if isinstance(value, str) and value not in _PROFILES:
            f.add(
                codes.VALUE_NOT_ALLOWED,
                (*path, "appendProfiles", i, "name"),
                f"unrecognized profile name '{value}' - 'All', 'None', 'Basic' are supported",
            )


def _check_selector(f: Findings, path: Path, selector: Mapping[str, Any]) -> None:
    kind, match = selector.get("type"), selector.get("match")
    if kind == "Regex" and isinstance(match, str) and not go_regexp.is_valid(match):
        f.add(codes.VALUE_NOT_ALLOWED, (*path, "match"), "invalid regex")
    elif isinstance(kind, str) and kind not in _SELECTOR_TYPES:
        f.add(
            codes.VALUE_NOT_ALLOWED,
            (*path, "type"),
            f"unrecognized type '{kind}' - 'Regex', 'Prefix', 'Exact' are supported",
        )


def _check_backend(f: Findings, path: Path, backend: Mapping[str, Any]) -> None:
    kind = backend.get("type")
    if kind == "Prometheus":
        prometheus = backend.get("prometheus")
        if prometheus is None:
            f.add(codes.SETTING_MISSING, (*path, "prometheus"), "must be defined")
        elif isinstance(prometheus, dict):
            # an omitted port is Kuma's default 5670
            _port(f, (*path, "port"), prometheus.get("port", 5670))
    elif kind == "OpenTelemetry":
        conf = backend.get("openTelemetry")
        if conf is None:
            f.add(codes.SETTING_MISSING, (*path, "openTelemetry"), "must be defined")
        elif isinstance(conf, dict):
            otel.check_backend_ref_or_endpoint(
                f, (*path, "openTelemetry"), conf, otel.check_host_port
            )
    # another type is reported by the schema's enum


def _port(f: Findings, path: Path, value: object) -> None:
    if is_number(value) and not 0 < value <= 65535:
        f.add(codes.NUMBER_RANGE, path, _PORT_RANGE)
