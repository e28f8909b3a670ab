"""Where an OpenTelemetry exporter sends: an inline ``endpoint`` or a ``backendRef`` to a
MeshOpenTelemetryBackend, resolved as Kuma 2.14 does (``policies/core/xds/otel.go``:
``ResolveOtelBackend``, ``ParseOtelEndpoint``, ``ResolveAddressForDirectExport``).

* Inline ``endpoint``: ``host:port`` (port 4317 when absent or invalid; a bare IPv6 address
  without brackets is a host alone), protocol gRPC.
* ``backendRef: {kind: MeshOpenTelemetryBackend, labels: {...}}``: the backends of the mesh
  whose labels contain all of them; Kuma takes the oldest, a repository has no creation
  times, so the first by name. None when nothing matches (Kuma skips the backend). The
  spec's ``endpoint.address`` (``127.0.0.1`` when empty: Kuma's universal node-local
  default), ``port`` (4317), ``path`` and ``protocol`` (``grpc``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.model import Resource

KIND = "MeshOpenTelemetryBackend"
DEFAULT_GRPC_PORT = 4317
DEFAULT_HTTPS_PORT = 443
NODE_LOCAL_ADDRESS = "127.0.0.1"
GRPC = "grpc"
HTTP = "http"
_HOST_PORT = re.compile(r"^(?:\[(?P<v6>[^\]]*)\]|(?P<host>[^:/\[\]]*))(?::(?P<port>[^:/]*))?$")


@dataclass(frozen=True, slots=True)
class OtelBackend:
    """A resolved collector."""

    address: str
    port: int
    protocol: str
    """``grpc`` or ``http``."""
    name: str
    """The MeshOpenTelemetryBackend's name, or the inline endpoint as written."""
    path: str | None = None

    @property
    def use_https(self) -> bool:
        """Kuma's heuristic: OTLP/HTTP on port 443 is HTTPS."""
        return self.protocol == HTTP and self.port == DEFAULT_HTTPS_PORT


def parse_endpoint(endpoint: str) -> tuple[str, int]:
    """Kuma ``ParseOtelEndpoint``: ``host[:port]`` -> (host, port), port 4317 by default."""
    if endpoint.count(":") > 1 and "[" not in endpoint:
        return endpoint, DEFAULT_GRPC_PORT
    found = _HOST_PORT.match(endpoint)
    host = (found.group("v6") or found.group("host") or "") if found else ""
    if found is None or host == "":
        return endpoint, DEFAULT_GRPC_PORT
    port = found.group("port") or ""
    value = int(port) if port.isdigit() else 0
    return host, value if 0 < value <= 65535 else DEFAULT_GRPC_PORT


def resolve(
    conf: Mapping[str, Any], backends: Iterable[Resource], mesh: str | None = None
) -> OtelBackend | None:
    """The collector of an ``openTelemetry`` block (``endpoint`` or ``backendRef``)."""
    ref = conf.get("backendRef")
    if isinstance(ref, Mapping):
        return _from_ref(ref, backends, mesh)
    endpoint = conf.get("endpoint")
    if isinstance(endpoint, str) and endpoint:
        host, port = parse_endpoint(endpoint)
        return OtelBackend(host, port, GRPC, endpoint)
    return None


def _from_ref(
    ref: Mapping[str, Any], backends: Iterable[Resource], mesh: str | None
) -> OtelBackend | None:
    labels = ref.get("labels")
    if not isinstance(labels, Mapping) or not labels:
        return None
    found = sorted(
        (
            b
            for b in backends
            if b.kind == KIND
            and (mesh is None or b.mesh == mesh)
            and all(b.labels.get(k) == v for k, v in labels.items())
        ),
        key=lambda b: b.name,
    )
    return from_spec(found[0]) if found else None


def from_spec(backend: Resource) -> OtelBackend:
    """Kuma ``resolvedFromSpec``."""
    spec = backend.spec
    endpoint = spec.get("endpoint")
    endpoint = endpoint if isinstance(endpoint, Mapping) else {}
    address = endpoint.get("address")
    port = endpoint.get("port")
    path = endpoint.get("path")
    protocol = spec.get("protocol")
    return OtelBackend(
        address if isinstance(address, str) and address else NODE_LOCAL_ADDRESS,
        port if isinstance(port, int) and not isinstance(port, bool) else DEFAULT_GRPC_PORT,
        protocol if isinstance(protocol, str) and protocol else GRPC,
        backend.name,
        path if isinstance(path, str) else None,
    )
