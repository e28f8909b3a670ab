"""Node ids and every Envoy resource name: Kuma 2.x legacy naming, in one place.

Source: Kuma ``v2.14.3:pkg/xds/envoy/names/resource_names.go`` (separator ``:``) and
``pkg/xds/envoy/tags`` for tag-subset clusters. It is in the bottom layer so the compiler,
identity (SDS secret names) and the CLI share it; no other module builds a name by hand.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

SEPARATOR = ":"


def node_id(mesh: str, dataplane: str) -> str:
    """Envoy node id of a Dataplane: ``<mesh>.<name>``."""
    return f"{mesh}.{dataplane}"


def inbound_listener(address: str, port: int) -> str:
    return f"inbound{SEPARATOR}{address}{SEPARATOR}{port}"


def outbound_listener(address: str, port: int) -> str:
    return f"outbound{SEPARATOR}{address}{SEPARATOR}{port}"


def local_cluster(service_port: int) -> str:
    """The cluster of the application next to the proxy: ``localhost:<servicePort>``."""
    return f"localhost{SEPARATOR}{service_port}"


def inbound_route_config(service: str) -> str:
    return f"inbound{SEPARATOR}{service}"


def outbound_route_config(service: str) -> str:
    return f"outbound{SEPARATOR}{service}"


def virtual_host(service: str) -> str:
    return service


def outbound_cluster(service: str) -> str:
    return service


def subset_cluster(service: str, tags: Mapping[str, str]) -> str:
    """A cluster for the endpoints of ``service`` that carry ``tags``: ``<service>-<hash>``.

    Kuma hashes the tag set into 16 hex digits; equal tag sets always give equal names.
    """
    if not tags:
        return service
    canonical = json.dumps(dict(sorted(tags.items())), separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:16]
    return f"{service}-{digest}"


def stat_prefix(name: str) -> str:
    """Envoy stat prefixes may not contain ``:``; Kuma replaces it with ``_``."""
    return name.replace(SEPARATOR, "_")


def route_name(route_config: str, index: int) -> str:
    return f"{route_config}{SEPARATOR}{index}"


def identity_cert_secret(mesh: str) -> str:
    return f"identity_cert{SEPARATOR}secret{SEPARATOR}{mesh}"


def mesh_ca_secret(mesh: str) -> str:
    return f"mesh_ca{SEPARATOR}secret{SEPARATOR}{mesh}"


def default_policy(kind_prefix: str, mesh: str) -> str:
    """Name of an initial default policy Kuma creates with a Mesh: ``mesh-timeout-all-default``."""
    return f"{kind_prefix}-all-{mesh}"


def prometheus_listener(backend: str) -> str:
    """MeshMetric's Prometheus listener: ``_kuma:metrics:prometheus:<clientId>`` (Kuma's
    ``PrometheusListenerName``; ``default-backend`` without a clientId)."""
    return f"_kuma{SEPARATOR}metrics{SEPARATOR}prometheus{SEPARATOR}{backend}"


def envoy_admin_cluster() -> str:
    """The cluster to the proxy's own Envoy admin (Kuma's ``GetEnvoyAdminClusterName``)."""
    return f"kuma{SEPARATOR}envoy{SEPARATOR}admin"


ACCESS_LOG_PIPE_DIR = "/tmp"


def access_log_pipe(dataplane: str, mesh: str, directory: str = ACCESS_LOG_PIPE_DIR) -> str:
    """Kuma ``AccessLogSocketName``: the named pipe Envoy writes Tcp access-log lines to and
    kuma-dp (here ``reconciler agent``) reads; the path before ``.sock`` is cut to 100."""
    base = f"{directory}/kuma-al-{dataplane}-{mesh}"
    return base[:100] + ".sock"
