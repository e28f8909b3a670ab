"""Generate a large, valid mesh repository for benchmarks (deterministic, seedable).

    generate(root, dataplanes=1000, services=200, policies=3999, seed=0)

writes one resource per file (so tools that read one document per file, like
``check-jsonschema``, see the same input):

* ``mesh.yaml``: one ``Mesh`` (``default``, builtin mTLS);
* ``dataplanes/<service>/<service>-<replica>.yaml``: ``dataplanes`` Dataplanes spread over
  ``services`` services (``svc-000`` ...). Dataplane *i* has the address ``127.1.x.y``, a
  globally unique inbound port (20000 + i), service port (30000 + i) and admin port
  (40000 + i), and outbounds to three other services on port 10000 + service index,
  listening on its own address;
* ``policies/<kind>/<name>.yaml``: ``policies`` policies, round-robin over the eleven policy
  kinds, each selecting existing services, valid for Kuma 2.14.

The defaults give 5,000 files. The same arguments always give the same bytes; ``seed``
varies the choices (targets, values) without changing the counts. Other benchmarks import
this module: keep the signature.

Run as a script to write a repository: ``python bench/generate_mesh.py DIR [--dataplanes N]``.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

DEFAULT_DATAPLANES = 1000
DEFAULT_SERVICES = 200
DEFAULT_POLICIES = 3999
MESH = "default"

Policy = Callable[[random.Random, int, "Services"], dict[str, Any]]


class Services:
    """Service names and protocols: every fifth service is TCP, every fifth other gRPC."""

    def __init__(self, count: int) -> None:
        self.names = [f"svc-{i:03d}" for i in range(count)]
        self.protocols = [
            "tcp" if i % 5 == 4 else "grpc" if i % 5 == 3 else "http" for i in range(count)
        ]

    def http(self, rng: random.Random) -> str:
        return self._pick(rng, "http")

    def tcp(self, rng: random.Random) -> str:
        return self._pick(rng, "tcp")

    def any(self, rng: random.Random) -> str:
        return rng.choice(self.names)

    def _pick(self, rng: random.Random, protocol: str) -> str:
        names = [n for n, p in zip(self.names, self.protocols, strict=True) if p == protocol]
        return rng.choice(names or self.names)


def _service_ref(name: str) -> dict[str, str]:
    return {"kind": "MeshService", "name": name}


def _envelope(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "name": name, "mesh": MESH, "spec": spec}


def _mesh() -> dict[str, Any]:
    return {
        "type": "Mesh",
        "name": MESH,
        "mtls": {
            "enabledBackend": "ca-1",
            "backends": [
                {
                    "name": "ca-1",
                    "type": "builtin",
                    "mode": "STRICT",
                    "dpCert": {"rotation": {"expiration": "1d"}},
                    "conf": {"caCert": {"RSAbits": 2048, "expiration": "10y"}},
                }
            ],
        },
    }


def _dataplane(index: int, services: Services) -> dict[str, Any]:
    count = len(services.names)
    service_index = index % count
    service = services.names[service_index]
    protocol = services.protocols[service_index]
    address = f"127.1.{index // 200}.{index % 200 + 1}"
    consumed = sorted({(service_index + step) % count for step in (1, 7, 31)} - {service_index})
    return {
        "type": "Dataplane",
        "mesh": MESH,
        "name": f"{service}-{index // count}",
        "labels": {"app": service, "version": f"v{index // count % 2 + 1}"},
        "networking": {
            "address": address,
            "admin": {"port": 40000 + index},
            "inbound": [
                {
                    "port": 20000 + index,
                    "servicePort": 30000 + index,
                    "serviceAddress": "127.0.0.1",
                    "name": "main",
                    "tags": {
                        "kuma.io/service": service,
                        "kuma.io/protocol": protocol,
                        "version": f"v{index // count % 2 + 1}",
                    },
                }
            ],
            "outbound": [
                {
                    "port": 10000 + other,
                    "address": address,
                    "tags": {"kuma.io/service": services.names[other]},
                }
                for other in consumed
            ],
        },
    }


def _traffic_permission(rng: random.Random, n: int, s: Services) -> dict[str, Any]:
    return {
        "targetRef": _service_ref(s.any(rng)),
        "from": [
            {"targetRef": _service_ref(s.any(rng)), "default": {"action": "Allow"}},
            {
                "targetRef": {"kind": "Mesh"},
                "default": {"action": rng.choice(["Deny", "AllowWithShadowDeny"])},
            },
        ],
    }


def _http_route(rng: random.Random, n: int, s: Services) -> dict[str, Any]:
    dest = s.http(rng)
    return {
        "targetRef": _service_ref(s.any(rng)),
        "to": [
            {
                "targetRef": _service_ref(dest),
                "rules": [
                    {
                        "matches": [
                            {"path": {"type": "PathPrefix", "value": f"/api/v{n % 3 + 1}"}}
                        ],
                        "default": {
                            "filters": [
                                {
                                    "type": "RequestHeaderModifier",
                                    "requestHeaderModifier": {
                                        "set": [{"name": "x-route", "value": f"r{n}"}]
                                    },
                                }
                            ],
                            "backendRefs": [
                                {
                                    "kind": "MeshServiceSubset",
                                    "name": dest,
                                    "tags": {"version": "v1"},
                                    "weight": 90,
                                },
                                {
                                    "kind": "MeshServiceSubset",
                                    "name": dest,
                                    "tags": {"version": "v2"},
                                    "weight": 10,
                                },
                            ],
                        },
                    }
                ],
            }
        ],
    }


def _tcp_route(rng: random.Random, n: int, s: Services) -> dict[str, Any]:
    dest = s.tcp(rng)
    return {
        "targetRef": _service_ref(s.any(rng)),
        "to": [
            {
                "targetRef": _service_ref(dest),
                "rules": [
                    {
                        "default": {
                            "backendRefs": [{"kind": "MeshService", "name": dest, "weight": 1}]
                        }
                    }
                ],
            }
        ],
    }


def _timeout(rng: random.Random, n: int, s: Services) -> dict[str, Any]:
    return {
        "targetRef": {"kind": "Mesh"},
        "to": [
            {
                "targetRef": _service_ref(s.http(rng)),
                "default": {
                    "connectionTimeout": f"{rng.randint(1, 5)}s",
                    "idleTimeout": "1h",
                    "http": {
                        "requestTimeout": f"{rng.randint(2, 30)}s",
                        "streamIdleTimeout": "30m",
                    },
                },
            }
        ],
    }


def _retry(rng: random.Random, n: int, s: Services) -> dict[str, Any]:
    return {
        "targetRef": _service_ref(s.any(rng)),
        "to": [
            {
                "targetRef": _service_ref(s.http(rng)),
                "default": {
                    "http": {
                        "numRetries": rng.randint(1, 5),
                        "perTryTimeout": "1s",
                        "backOff": {"baseInterval": "25ms", "maxInterval": "250ms"},
                        "retryOn": ["5XX", "ConnectFailure"],
                    }
                },
            },
            {"targetRef": _service_ref(s.tcp(rng)), "default": {"tcp": {"maxConnectAttempt": 3}}},
        ],
    }


def _circuit_breaker(rng: random.Random, n: int, s: Services) -> dict[str, Any]:
    return {
        "targetRef": {"kind": "Mesh"},
        "to": [
            {
                "targetRef": _service_ref(s.any(rng)),
                "default": {
                    "connectionLimits": {
                        "maxConnections": 256,
                        "maxPendingRequests": 128,
                        "maxRequests": 512,
                    },
                    "outlierDetection": {
                        "disabled": False,
                        "interval": "5s",
                        "baseEjectionTime": "30s",
                        "maxEjectionPercent": rng.randint(10, 50),
                        "detectors": {"totalFailures": {"consecutive": 5}},
                    },
                },
            }
        ],
    }


def _health_check(rng: random.Random, n: int, s: Services) -> dict[str, Any]:
    return {
        "targetRef": {"kind": "Mesh"},
        "to": [
            {
                "targetRef": _service_ref(s.http(rng)),
                "default": {
                    "interval": "10s",
                    "timeout": "2s",
                    "unhealthyThreshold": 3,
                    "healthyThreshold": 1,
                    "http": {"path": "/health", "expectedStatuses": [200]},
                },
            },
            {
                "targetRef": _service_ref(s.tcp(rng)),
                "default": {
                    "interval": "10s",
                    "timeout": "1s",
                    "unhealthyThreshold": 3,
                    "healthyThreshold": 1,
                    "tcp": {},
                },
            },
        ],
    }


def _load_balancing(rng: random.Random, n: int, s: Services) -> dict[str, Any]:
    balancer: dict[str, Any]
    if n % 2:
        balancer = {"type": "LeastRequest", "leastRequest": {"choiceCount": 2}}
    else:
        balancer = {
            "type": "RingHash",
            "ringHash": {
                "minRingSize": 1024,
                "maxRingSize": 8192,
                "hashPolicies": [{"type": "Header", "header": {"name": "x-user"}}],
            },
        }
    return {
        "targetRef": {"kind": "Mesh"},
        "to": [{"targetRef": _service_ref(s.http(rng)), "default": {"loadBalancer": balancer}}],
    }


def _fault_injection(rng: random.Random, n: int, s: Services) -> dict[str, Any]:
    return {
        "targetRef": _service_ref(s.http(rng)),
        "from": [
            {
                "targetRef": {"kind": "Mesh"},
                "default": {
                    "http": [
                        {"abort": {"httpStatus": 503, "percentage": rng.randint(1, 20)}},
                        {"delay": {"value": "50ms", "percentage": 5}},
                    ]
                },
            }
        ],
    }


def _rate_limit(rng: random.Random, n: int, s: Services) -> dict[str, Any]:
    return {
        "targetRef": _service_ref(s.http(rng)),
        "from": [
            {
                "targetRef": {"kind": "Mesh"},
                "default": {
                    "local": {
                        "http": {
                            "requestRate": {"num": rng.randint(10, 1000), "interval": "1s"},
                            "onRateLimit": {
                                "status": 429,
                                "headers": {"set": [{"name": "x-rate-limited", "value": "true"}]},
                            },
                        }
                    }
                },
            }
        ],
    }


def _access_log(rng: random.Random, n: int, s: Services) -> dict[str, Any]:
    return {
        "targetRef": _service_ref(s.any(rng)),
        "to": [
            {
                "targetRef": {"kind": "Mesh"},
                "default": {
                    "backends": [
                        {
                            "type": "File",
                            "file": {
                                "path": "/dev/stdout",
                                "format": {
                                    "type": "Json",
                                    "json": [
                                        {"key": "start_time", "value": "%START_TIME%"},
                                        {"key": "status", "value": "%RESPONSE_CODE%"},
                                    ],
                                },
                            },
                        }
                    ]
                },
            }
        ],
    }


POLICIES: dict[str, Policy] = {
    "MeshTrafficPermission": _traffic_permission,
    "MeshHTTPRoute": _http_route,
    "MeshTCPRoute": _tcp_route,
    "MeshTimeout": _timeout,
    "MeshRetry": _retry,
    "MeshCircuitBreaker": _circuit_breaker,
    "MeshHealthCheck": _health_check,
    "MeshLoadBalancingStrategy": _load_balancing,
    "MeshFaultInjection": _fault_injection,
    "MeshRateLimit": _rate_limit,
    "MeshAccessLog": _access_log,
}
"""Policy kind -> builder of a valid ``spec``; the order is the round-robin order."""


def _write(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def generate(
    root: Path,
    *,
    dataplanes: int = DEFAULT_DATAPLANES,
    services: int = DEFAULT_SERVICES,
    policies: int = DEFAULT_POLICIES,
    seed: int = 0,
) -> None:
    """Write a valid repository of ``1 + dataplanes + policies`` resource files under ``root``."""
    if not 1 <= services <= 9999 or not 0 <= dataplanes <= 9999 or policies < 0:
        raise ValueError("need 1-9999 services, 0-9999 dataplanes, policies >= 0")
    rng = random.Random(seed)
    catalog = Services(services)
    _write(root / "mesh.yaml", _mesh())
    for index in range(dataplanes):
        document = _dataplane(index, catalog)
        _write(
            root / "dataplanes" / catalog.names[index % services] / f"{document['name']}.yaml",
            document,
        )
    kinds = list(POLICIES)
    for n in range(policies):
        kind = kinds[n % len(kinds)]
        name = f"{kind.lower()}-{n // len(kinds):04d}"
        spec = POLICIES[kind](rng, n // len(kinds), catalog)
        _write(root / "policies" / kind.lower() / f"{name}.yaml", _envelope(kind, name, spec))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--dataplanes", type=int, default=DEFAULT_DATAPLANES)
    parser.add_argument("--services", type=int, default=DEFAULT_SERVICES)
    parser.add_argument("--policies", type=int, default=DEFAULT_POLICIES)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    generate(
        args.root,
        dataplanes=args.dataplanes,
        services=args.services,
        policies=args.policies,
        seed=args.seed,
    )


if __name__ == "__main__":
    main()
