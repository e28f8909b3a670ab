"""The initial default policies Kuma 2.14 creates with every Mesh.

Source: Kuma ``v2.14.3:pkg/defaults/mesh/`` (``mesh.go``, ``meshtimeout.go``,
``meshretry.go``, ``meshcircuitbreaker.go``). A Mesh gets ``mesh-timeout-all-<mesh>``,
``mesh-retry-all-<mesh>`` and ``mesh-circuit-breaker-all-<mesh>`` unless its
``skipCreatingInitialPolicies`` lists ``*`` or the kind. A resource of the same kind and
name in the repository replaces the default (it is the same resource for Kuma).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler import names
from reconciler.model import DEFAULT_MESH, Kind, Position, Resource

_MESH_ALL = {"kind": "Mesh"}

INITIAL_POLICIES: dict[str, tuple[str, Mapping[str, Any]]] = {
    Kind.MESH_TIMEOUT: (
        "mesh-timeout",
        {
            "targetRef": {"kind": "Mesh", "proxyTypes": ["Sidecar"]},
            # inbound: bigger than the outbound side, or disabled
            "from": [
                {
                    "targetRef": _MESH_ALL,
                    "default": {
                        "connectionTimeout": "10s",
                        "idleTimeout": "2h",
                        "http": {
                            "requestTimeout": "0s",
                            "streamIdleTimeout": "1h",
                            "maxStreamDuration": "0s",
                        },
                    },
                }
            ],
            "to": [
                {
                    "targetRef": _MESH_ALL,
                    "default": {
                        "connectionTimeout": "5s",
                        "idleTimeout": "1h",
                        "http": {
                            "requestTimeout": "15s",
                            "streamIdleTimeout": "30m",
                            "maxStreamDuration": "0s",
                        },
                    },
                }
            ],
        },
    ),
    Kind.MESH_RETRY: (
        "mesh-retry",
        {
            "targetRef": _MESH_ALL,
            "to": [
                {
                    "targetRef": _MESH_ALL,
                    "default": {
                        "tcp": {"maxConnectAttempt": 5},
                        "http": {
                            "numRetries": 5,
                            "perTryTimeout": "16s",
                            "backOff": {"baseInterval": "25ms", "maxInterval": "250ms"},
                        },
                        "grpc": {
                            "numRetries": 5,
                            "perTryTimeout": "16s",
                            "backOff": {"baseInterval": "25ms", "maxInterval": "250ms"},
                        },
                    },
                }
            ],
        },
    ),
    Kind.MESH_CIRCUIT_BREAKER: (
        "mesh-circuit-breaker",
        {
            "targetRef": _MESH_ALL,
            "to": [
                {
                    "targetRef": _MESH_ALL,
                    "default": {
                        "connectionLimits": {
                            "maxConnections": 1024,
                            "maxPendingRequests": 1024,
                            "maxRequests": 1024,
                            "maxRetries": 3,
                        }
                    },
                }
            ],
        },
    ),
}

DEFAULT_FILE_PREFIX = "<initial policy of Mesh "


def skipped(mesh: Resource | None) -> frozenset[str]:
    if mesh is None:
        return frozenset()
    raw = mesh.data.get("skipCreatingInitialPolicies")
    return frozenset(str(v) for v in raw) if isinstance(raw, list) else frozenset()


def initial_policies(mesh_name: str, mesh: Resource | None) -> list[Resource]:
    """The default policies of ``mesh_name``.

    A mesh no Mesh resource defines gets none, except ``default``: Kuma's control plane
    creates that mesh itself at start, with its initial policies.
    """
    if mesh is None and mesh_name != DEFAULT_MESH:
        return []
    skip = skipped(mesh)
    if "*" in skip:
        return []
    out: list[Resource] = []
    for kind, (prefix, spec) in INITIAL_POLICIES.items():
        if kind in skip:
            continue
        name = names.default_policy(prefix, mesh_name)
        out.append(
            Resource(
                kind=kind,
                name=name,
                mesh=mesh_name,
                data={"type": kind, "name": name, "mesh": mesh_name, "spec": spec},
                file=f"{DEFAULT_FILE_PREFIX}{mesh_name}>",
                doc_index=0,
                position=Position(1, 1),
                locator=_nowhere,
            )
        )
    return out


def _nowhere(_path: Any) -> Position | None:
    return None


def is_initial(resource: Resource) -> bool:
    return resource.file.startswith(DEFAULT_FILE_PREFIX)
