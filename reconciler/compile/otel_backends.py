"""OpenTelemetry collectors named by observability policies: Kuma 2.14 ``core/xds/otel.go``.

A policy names its collector by an inline ``endpoint`` (``host:port``) or by ``backendRef``
labels selecting a MeshOpenTelemetryBackend of the mesh. :func:`resolve` returns what Kuma's
``ResolveOtelBackend`` + ``EndpointForDirectOtelExport`` give Envoy (no kuma-dp in between):

* inline: ``ParseOtelEndpoint`` (port 4317 when absent or invalid; a bare IPv6 address is a
  host), protocol gRPC, named by the endpoint string;
* backendRef: the matching resource (Kuma takes the oldest; resources from Git have no
  creation time, so the first by name), its ``endpoint.address`` (empty: ``127.0.0.1``,
  Kuma's universal node address), ``port`` (4317), ``path``, ``protocol`` (``grpc``);
  named by the resource; none matching: None (Kuma skips the backend).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from reconciler.compile.inventory import MeshIndex
from reconciler.model import Resource

KIND = "MeshOpenTelemetryBackend"
DEFAULT_GRPC_PORT = 4317
LOCAL_NODE = "127.0.0.1"
TRACES_SUFFIX = "v1/traces"


def parse_endpoint(endpoint: str) -> tuple[str, int]:
    """Kuma ``ParseOtelEndpoint``: ``host:port`` (port 4317 when absent or invalid)."""
    if endpoint.count(":") > 1 and "[" not in endpoint:
        return endpoint, DEFAULT_GRPC_PORT
    try:
        split = urlsplit("otel://" + endpoint)
        host, port = split.hostname, split.port
    except ValueError:
        return endpoint, DEFAULT_GRPC_PORT
    if not host:
        return endpoint, DEFAULT_GRPC_PORT
    return host, port if port else DEFAULT_GRPC_PORT


def _matching(index: MeshIndex, labels: Mapping[str, Any]) -> Resource | None:
    for resource in sorted(index.resources.get(KIND, ()), key=lambda r: r.name):
        if labels and all(resource.labels.get(k) == v for k, v in labels.items()):
            return resource
    return None


def resolve(otel: Mapping[str, Any], index: MeshIndex) -> dict[str, Any] | None:
    """The collector of an ``openTelemetry`` block: ``{name, host, port, protocol, path}``,
    or None (a dangling ``backendRef``, or neither field set)."""
    ref = otel.get("backendRef")
    if isinstance(ref, Mapping):
        labels = ref.get("labels")
        found = _matching(index, labels if isinstance(labels, Mapping) else {})
        if found is None:
            return None
        endpoint = found.spec.get("endpoint")
        endpoint = endpoint if isinstance(endpoint, Mapping) else {}
        port, path = endpoint.get("port"), endpoint.get("path")
        return {
            "name": found.name,
            "host": str(endpoint.get("address") or LOCAL_NODE),
            "port": port if isinstance(port, int) else DEFAULT_GRPC_PORT,
            "protocol": str(found.spec.get("protocol") or "grpc"),
            "path": path if isinstance(path, str) else None,
        }
    inline = otel.get("endpoint")
    if not isinstance(inline, str) or not inline:
        return None
    host, port = parse_endpoint(inline)
    return {"name": inline, "host": host, "port": port, "protocol": "grpc", "path": None}


def uses_https(resolved: Mapping[str, Any]) -> bool:
    """Kuma's heuristic: OTLP/HTTP to port 443 is HTTPS."""
    return resolved.get("protocol") == "http" and resolved.get("port") == 443


def http_uri(resolved: Mapping[str, Any], suffix: str) -> str:
    """Kuma's OTLP/HTTP URI: ``http(s)://host:port`` and the base path (``/`` when unset)
    joined with the signal's suffix as Go's ``path.Join`` does."""
    host, port = str(resolved["host"]), int(resolved["port"])
    scheme = "https" if uses_https(resolved) else "http"
    joined = f"[{host}]" if ":" in host else host
    base = str(resolved.get("path") or "/")
    parts = [p for p in f"{base}/{suffix}".split("/") if p and p != "."]
    return f"{scheme}://{joined}:{port}/{'/'.join(parts)}"
