"""Dataplane probes, metrics and transparent-proxy reachable backends (Kuma 2.14).

None of these is applied by the reconciler (``unsupported.py`` warns), but Kuma rejects a
Dataplane whose values are invalid, so they are checked with Kuma's messages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reconciler import codes
from reconciler.durations import parse_duration
from reconciler.model import Resource
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map, is_number, is_set

BACKEND_KINDS = ("MeshExternalService", "MeshMultiZoneService", "MeshService")
_DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
PORT_RANGE = "port must be in the range [1, 65535]"
POSITIVE = "must have a positive value"


def check(f: Findings, resource: Resource) -> None:
    data = resource.data
    networking = as_map(data.get("networking"))
    for i, inbound in enumerate(as_list(networking.get("inbound"))):
        probe = as_map(inbound).get("serviceProbe")
        if isinstance(probe, dict):
            _service_probe(f, ("networking", "inbound", i, "serviceProbe"), probe)
    probes = data.get("probes")
    if isinstance(probes, dict):
        _virtual_probes(f, probes)
    metrics = data.get("metrics")
    if isinstance(metrics, dict):
        _metrics(f, metrics)
    reachable = as_map(as_map(networking.get("transparentProxying")).get("reachableBackends"))
    for i, ref in enumerate(as_list(reachable.get("refs"))):
        if isinstance(ref, dict):
            path = ("networking", "transparentProxying", "reachableBackends", "refs", i)
            _reachable_backend(f, path, ref)


def _service_probe(f: Findings, path: Path, probe: Mapping[str, Any]) -> None:
    for name in ("interval", "timeout"):
        value = probe.get(name)
        seconds = parse_duration(value) if isinstance(value, str) else None
        # a malformed value is the schema's (protobuf durations: "<seconds>s")
        if seconds is not None and seconds <= 0:
            f.add(codes.DURATION_INVALID, (*path, name), POSITIVE)
    for name in ("healthyThreshold", "unhealthyThreshold"):
        value = probe.get(name)
        if is_number(value) and value <= 0:
            f.add(codes.NUMBER_RANGE, (*path, name), POSITIVE)


def _url_path(value: object) -> bool:
    return isinstance(value, str) and value.startswith("/") and " " not in value


def _virtual_probes(f: Findings, probes: Mapping[str, Any]) -> None:
    port = probes.get("port")
    if is_number(port) and not 1 <= port <= 65535:
        f.add(codes.NUMBER_RANGE, ("probes", "port"), PORT_RANGE)
    for i, endpoint in enumerate(as_list(probes.get("endpoints"))):
        endpoint = as_map(endpoint)
        inbound_port = endpoint.get("inboundPort")
        if is_number(inbound_port) and not 1 <= inbound_port <= 65535:
            f.add(codes.NUMBER_RANGE, ("probes", "endpoints", i, "inboundPort"), PORT_RANGE)
        for name in ("inboundPath", "path"):
            if not _url_path(endpoint.get(name)):
                f.add(
                    codes.VALUE_NOT_ALLOWED,
                    ("probes", "endpoints", i, name),
                    "should be a valid URL Path",
                )


def _metrics(f: Findings, metrics: Mapping[str, Any]) -> None:
    kind = metrics.get("type")
    if isinstance(kind, str) and kind != "prometheus":
        f.add(
            codes.VALUE_NOT_ALLOWED,
            ("metrics", "type"),
            'unknown backend type. Available backends: "prometheus"',
        )
    seen: set[str] = set()
    for i, item in enumerate(as_list(as_map(metrics.get("conf")).get("aggregate"))):
        name = as_map(item).get("name")
        if isinstance(name, str):
            if name in seen:
                f.add(
                    codes.SETTINGS_CONFLICT,
                    ("metrics", "conf", "aggregate", i, "name"),
                    f"duplicate entry: {name}, values have to be unique",
                )
            seen.add(name)


def _reachable_backend(f: Findings, path: Path, ref: Mapping[str, Any]) -> None:
    kind = ref.get("kind")
    if isinstance(kind, str) and kind not in BACKEND_KINDS:
        f.add(
            codes.TARGETREF_KIND,
            (*path, "kind"),
            f"invalid value. Available values are: {','.join(BACKEND_KINDS)}",
        )
    name = ref.get("name")
    if is_set(name) and is_set(ref.get("labels")):
        f.add(
            codes.TARGETREF_FIELD,
            (*path, "labels"),
            "labels cannot be defined when name is specified",
        )
    if isinstance(name, str) and name and not _DNS1123.match(name):
        f.add(
            codes.NAME_FORMAT,
            (*path, "name"),
            "invalid characters. A lowercase RFC 1123 subdomain must consist of lower case "
            "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
            "character",
        )
    if not is_set(name):
        if is_set(ref.get("namespace")):
            f.add(
                codes.TARGETREF_FIELD,
                (*path, "name"),
                "name is required, when namespace is defined",
            )
        elif not is_set(ref.get("labels")):
            f.add(codes.TARGETREF_FIELD, (*path, "name"), "name or labels are required")
