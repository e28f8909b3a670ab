"""Dataplane probes, metrics and transparent-proxy reachable backends (Kuma 2.14).

None of these is applied by the reconciler (``not_applied.py`` warns), but Kuma rejects a
Dataplane whose values are invalid, so they are checked with Kuma's messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler import codes
from reconciler.durations import parse_duration
from reconciler.kinds.dataplane.interfaces import check_port
from reconciler.kinds.mesh.prometheus import check_prometheus
from reconciler.model import Resource
from reconciler.validate.rules.addresses import parse_request_uri
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map, is_number, is_set
from reconciler.validate.rules.identifiers import check_identifier

BACKEND_KINDS = ("MeshExternalService", "MeshMultiZoneService", "MeshService")
KUMA_TP_FIELD = "transparentProxing"
"""Kuma 2.14 reports reachable backends under this (misspelt) name; so do we."""
POSITIVE = "must have a positive value"


def check(f: Findings, resource: Resource) -> None:
    """The checks of a sidecar Dataplane (not a gateway): virtual probes and metrics."""
    check_probes(f, resource)
    metrics = resource.data.get("metrics")
    if metrics is not None:
        _metrics(f, as_map(metrics))


def check_probes(f: Findings, resource: Resource) -> None:
    probes = resource.data.get("probes")
    if isinstance(probes, dict):
        _virtual_probes(f, probes)


def check_service_probe(f: Findings, path: Path, inbound: Mapping[str, Any]) -> None:
    probe = inbound.get("serviceProbe")
    if isinstance(probe, dict):
        _service_probe(f, (*path, "serviceProbe"), probe)


def check_reachable_backends(f: Findings, networking: Mapping[str, Any]) -> None:
    reachable = as_map(as_map(networking.get("transparentProxying")).get("reachableBackends"))
    found = Findings(f.resource)
    for i, ref in enumerate(as_list(reachable.get("refs"))):
        if isinstance(ref, dict):
            path = ("networking", "transparentProxying", "reachableBackends", "refs", i)
            _reachable_backend(found, path, ref)
    f.merge_renamed(found, "transparentProxying", KUMA_TP_FIELD)


def _service_probe(f: Findings, path: Path, probe: Mapping[str, Any]) -> None:
    """Kuma ``ValidateDuration`` (only zero is rejected) and ``ValidateThreshold``."""
    for name in ("interval", "timeout"):
        value = probe.get(name)
        seconds = parse_duration(value) if isinstance(value, str) else None
        # a malformed value is the schema's (protobuf durations: "<seconds>s")
        if seconds is not None and seconds == 0:
            f.add(codes.DURATION_INVALID, (*path, name), POSITIVE)
    for name in ("healthyThreshold", "unhealthyThreshold"):
        value = probe.get(name)
        if is_number(value) and value == 0:
            f.add(codes.NUMBER_RANGE, (*path, name), POSITIVE)


def _url_path(value: object) -> bool:
    """Go ``url.ParseRequestURI`` accepts it (an omitted path is "")."""
    text = value if isinstance(value, str) else ""
    return parse_request_uri(text) is not None


def _virtual_probes(f: Findings, probes: Mapping[str, Any]) -> None:
    check_port(f, ("probes", "port"), probes.get("port"), zero_in_schema=False)
    for i, endpoint in enumerate(as_list(probes.get("endpoints"))):
        endpoint = as_map(endpoint)
        path = ("probes", "endpoints", i)
        check_port(f, (*path, "inboundPort"), endpoint.get("inboundPort"), zero_in_schema=False)
        for name in ("inboundPath", "path"):
            value = endpoint.get(name)
            if (value is None or isinstance(value, str)) and not _url_path(value):
                f.add(codes.VALUE_NOT_ALLOWED, (*path, name), "should be a valid URL Path")


def _metrics(f: Findings, metrics: Mapping[str, Any]) -> None:
    """Kuma ``validateMetricsBackend``: only ``prometheus``, then its configuration."""
    if metrics.get("type") != "prometheus":
        f.add(
            codes.VALUE_NOT_ALLOWED,
            ("metrics", "type"),
            'unknown backend type. Available backends: "prometheus"',
        )
        return
    check_prometheus(f, ("metrics", "conf"), metrics.get("conf"))


def _reachable_backend(f: Findings, path: Path, ref: Mapping[str, Any]) -> None:
    """Kuma ``validateTransparentProxying`` (its field name is rewritten by the caller)."""
    kind = ref.get("kind")
    if kind not in BACKEND_KINDS:
        f.add(
            codes.TARGETREF_KIND,
            (*path, "kind"),
            f"invalid value. Available values are: {','.join(BACKEND_KINDS)}",
        )
    name = ref.get("name") or ""
    namespace = ref.get("namespace") or ""
    labels = is_set(ref.get("labels"))
    if isinstance(name, str) and name:
        check_identifier(f, (*path, "name"), name)
    if not name and not namespace and not labels:
        f.add(codes.TARGETREF_FIELD, (*path, "name"), "name or labels are required")
    if not name and namespace:
        f.add(
            codes.TARGETREF_FIELD,
            (*path, "name"),
            "name is required, when namespace is defined",
        )
    if (name or namespace) and labels:
        f.add(
            codes.TARGETREF_FIELD,
            (*path, "labels"),
            "labels cannot be defined when name is specified",
        )
