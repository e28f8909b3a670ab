"""Each kind's schema: valid Kuma 2.14 documents pass, small broken ones fail at the right place."""

from __future__ import annotations

import copy
import random
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

from reconciler.load import SourceFile, load_file
from reconciler.model import Kind, Resource
from reconciler.validate.schema import check_schema, predicate_for, validator_for


def load(text: str) -> list[Resource]:
    loaded = load_file(SourceFile("example.yaml", textwrap.dedent(text).encode()))
    assert not loaded.diagnostics, [d.format_text() for d in loaded.diagnostics]
    return loaded.resources


POSITIVE: dict[str, str] = {
    "Mesh": """
        type: Mesh
        name: default
        creationTime: "2025-01-02T03:04:05Z"
        modificationTime: "2025-01-02T03:04:05.123+01:00"
        labels: {team: platform}
        mtls:
          enabledBackend: ca-1
          skipValidation: false
          backends:
            - name: ca-1
              type: builtin
              mode: STRICT
              dpCert: {rotation: {expiration: 1d}, requestTimeout: 10s}
              rootChain: {requestTimeout: 0.5s}
              conf: {caCert: {RSAbits: 2048, expiration: 10y}}
            - name: ca-2
              type: provided
              mode: 1
              conf:
                cert: {secret: ca-cert}
                key: {inlineString: "-----BEGIN RSA PRIVATE KEY-----"}
        metrics:
          enabledBackend: prom
          backends: [{name: prom, type: prometheus, conf: {port: 5670, path: /metrics}}]
        tracing:
          defaultBackend: zipkin
          backends: [{name: zipkin, type: zipkin, sampling: 50.5, conf: {url: "http://z:9411"}}]
        logging:
          defaultBackend: file
          backends: [{name: file, type: file, format: "%START_TIME%", conf: {path: /tmp/log}}]
        networking: {outbound: {passthrough: true}}
        routing: {localityAwareLoadBalancing: true, zoneEgress: false}
        constraints: {dataplaneProxy: {requirements: [{tags: {kuma.io/zone: "*"}}]}}
        meshServices: {mode: Exclusive}
        skipCreatingInitialPolicies: ["*"]
    """,
    "Dataplane": """
        type: Dataplane
        mesh: default
        name: web-01
        kri: kri_dp_default___web-01_
        labels: {app: web}
        networking:
          address: 127.0.0.2
          advertisedAddress: 127.0.0.3
          admin: {port: 9901}
          inbound:
            - port: 8080
              servicePort: 8081
              serviceAddress: 127.0.0.1
              name: http
              protocol: http
              state: Ready
              health: {ready: true}
              serviceProbe: {interval: 10s, timeout: 2s, healthyThreshold: 1, tcp: {}}
              tags: {kuma.io/service: web, kuma.io/protocol: http, version: "1.0"}
          outbound:
            - port: 10001
              tags: {kuma.io/service: backend}
            - port: 10002
              address: 127.0.0.2
              backendRef: {kind: MeshService, name: redis, port: 6379}
          transparentProxying:
            redirectPortInbound: 15006
            redirectPortOutbound: 15001
            ipFamilyMode: DualStack
            reachableServices: [backend]
            reachableBackends: {refs: [{kind: MeshService, name: backend, port: 8080}]}
        probes: {port: 9000, endpoints: [{inboundPort: 8080, inboundPath: /health, path: /h}]}
        metrics: {name: prom, type: prometheus, conf: {port: 5670}}
    """,
    "MeshTrafficPermission": """
        type: MeshTrafficPermission
        name: allow-web
        spec:
          targetRef: {kind: MeshService, name: backend}
          from:
            - targetRef: {kind: MeshSubset, tags: {kuma.io/service: web}}
              default: {action: Allow}
            - targetRef: {kind: Mesh}
              default: {action: AllowWithShadowDeny}
    """,
    "MeshHTTPRoute": """
        type: MeshHTTPRoute
        name: route
        mesh: default
        spec:
          targetRef: {kind: MeshService, name: web}
          to:
            - targetRef: {kind: MeshService, name: backend}
              hostnames: [backend.mesh]
              rules:
                - matches:
                    - path: {type: PathPrefix, value: /api}
                      method: GET
                      headers: [{type: Exact, name: x-v, value: "2"}]
                      queryParams: [{type: Exact, name: q, value: x}]
                  default:
                    filters:
                      - type: RequestHeaderModifier
                        requestHeaderModifier: {set: [{name: x-a, value: b}], remove: [x-b]}
                      - type: URLRewrite
                        urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /v2}}
                    backendRefs:
                      - {kind: MeshServiceSubset, name: backend, tags: {version: v2}, weight: 10}
    """,
    "MeshTCPRoute": """
        type: MeshTCPRoute
        name: tcp
        mesh: default
        spec:
          targetRef: {kind: Mesh}
          to:
            - targetRef: {kind: MeshService, name: db}
              rules: [{default: {backendRefs: [{kind: MeshService, name: db, weight: 1}]}}]
    """,
    "MeshTimeout": """
        type: MeshTimeout
        name: timeout-1
        mesh: default
        labels: {kuma.io/origin: zone}
        spec:
          targetRef: {kind: Dataplane, labels: {app: web}, sectionName: http}
          to:
            - targetRef: {kind: MeshService, name: backend}
              default:
                connectionTimeout: 2s
                idleTimeout: 1h
                http: {requestTimeout: 5s, streamIdleTimeout: 30m, maxStreamDuration: 0s}
          rules:
            - matches: [{spiffeID: {type: Prefix, value: "spiffe://default"}}]
              default: {idleTimeout: 10m}
    """,
    "MeshRetry": """
        type: MeshRetry
        name: retry
        mesh: default
        spec:
          targetRef: {kind: Mesh, proxyTypes: [Sidecar]}
          to:
            - targetRef: {kind: MeshService, name: backend}
              default:
                tcp: {maxConnectAttempt: 3}
                http:
                  numRetries: 3
                  perTryTimeout: 1s
                  backOff: {baseInterval: 25ms, maxInterval: 250ms}
                  retryOn: [5XX, ConnectFailure, "429"]
                grpc: {numRetries: 2, retryOn: [Unavailable]}
    """,
    "MeshCircuitBreaker": """
        type: MeshCircuitBreaker
        name: cb
        mesh: default
        spec:
          targetRef: {kind: Mesh}
          to:
            - targetRef: {kind: MeshService, name: backend}
              default:
                connectionLimits: {maxConnections: 2, maxPendingRequests: 8}
                outlierDetection:
                  disabled: false
                  interval: 5s
                  healthyPanicThreshold: "50.5"
                  detectors:
                    totalFailures: {consecutive: 5}
                    successRate: {minimumHosts: 5, standardDeviationFactor: 1900}
    """,
    "MeshHealthCheck": """
        type: MeshHealthCheck
        name: hc
        mesh: default
        spec:
          targetRef: {kind: Mesh}
          to:
            - targetRef: {kind: MeshService, name: backend}
              default:
                interval: 10s
                timeout: 2s
                unhealthyThreshold: 3
                healthyThreshold: 1
                healthyPanicThreshold: 60
                http:
                  path: /health
                  expectedStatuses: [200, 204]
                  requestHeadersToAdd: {add: [{name: x-hc, value: "1"}]}
    """,
    "MeshLoadBalancingStrategy": """
        type: MeshLoadBalancingStrategy
        name: lb
        mesh: default
        spec:
          targetRef: {kind: Mesh}
          to:
            - targetRef: {kind: MeshService, name: backend}
              default:
                loadBalancer:
                  type: RingHash
                  ringHash:
                    minRingSize: 1024
                    hashPolicies: [{type: Header, header: {name: x-user}}]
                localityAwareness:
                  crossZone:
                    failoverThreshold: {percentage: "70.5"}
                    failover: [{to: {type: Any}}]
    """,
    "MeshFaultInjection": """
        type: MeshFaultInjection
        name: fi
        mesh: default
        spec:
          targetRef: {kind: MeshService, name: backend}
          from:
            - targetRef: {kind: Mesh}
              default:
                http:
                  - abort: {httpStatus: 503, percentage: 20}
                  - delay: {value: 50ms, percentage: "5.5"}
                  - responseBandwidth: {limit: 10mbps, percentage: 1}
    """,
    "MeshRateLimit": """
        type: MeshRateLimit
        name: rl
        mesh: default
        spec:
          targetRef: {kind: MeshService, name: backend}
          from:
            - targetRef: {kind: Mesh}
              default:
                local:
                  http:
                    requestRate: {num: 100, interval: 1s}
                    onRateLimit: {status: 429, headers: {set: [{name: x-rl, value: "true"}]}}
                  tcp: {connectionRate: {num: 10, interval: 1s}}
    """,
    "MeshAccessLog": """
        type: MeshAccessLog
        name: logs
        mesh: default
        spec:
          targetRef: {kind: Mesh}
          to:
            - targetRef: {kind: Mesh}
              default:
                backends:
                  - type: File
                    file:
                      path: /dev/stdout
                      format: {type: Json, json: [{key: start, value: "%START_TIME%"}]}
                  - type: Tcp
                    tcp: {address: "127.0.0.1:5000", format: {type: Plain, plain: "%START_TIME%"}}
                  - type: OpenTelemetry
                    openTelemetry:
                      endpoint: "otel:4317"
                      attributes: [{key: mesh, value: "%KUMA_MESH%"}]
                      body: {kvlistValue: {values: [{key: mesh, value: {stringValue: x}}]}}
    """,
}


def test_every_kind_has_a_positive_example() -> None:
    assert set(POSITIVE) == {k.value for k in Kind}


@pytest.mark.parametrize("kind", sorted(POSITIVE))
def test_positive_example_passes(kind: str) -> None:
    (resource,) = load(POSITIVE[kind])
    assert resource.kind == kind
    assert [d.format_text() for d in check_schema(resource)] == []


# (kind, document, expected code, expected field, expected line)
NEGATIVE: list[tuple[str, str, str, str, int]] = [
    (
        "Mesh",
        "type: Mesh\nname: m\nmtls:\n  backends:\n    - name: a\n      type: builtin\n"
        "      conf: {caCert: {RSABits: 2048}}\n",
        "RC201",
        "mtls.backends[0].conf.caCert.RSABits",
        7,
    ),
    (
        "Mesh",
        "type: Mesh\nname: m\nmtls:\n  backends:\n    - {name: a, type: builtin, mode: STRICTLY}\n",
        "RC204",
        "mtls.backends[0].mode",
        5,
    ),
    (
        "Mesh",
        "type: Mesh\nname: m\nmtls:\n  backends:\n    - name: a\n      type: provided\n"
        "      conf:\n        cert: {}\n        key: {secret: k}\n",
        "RC208",
        "mtls.backends[0].conf.cert",
        8,
    ),
    (
        "Dataplane",
        "type: Dataplane\nname: d\nnetworking:\n  address: 127.0.0.1\n",
        "RC202",
        "mesh",
        1,
    ),
    (
        "Dataplane",
        "type: Dataplane\nmesh: default\nname: d\nnetworking:\n  inbound:\n    - port: 70000\n",
        "RC206",
        "networking.inbound[0].port",
        6,
    ),
    (
        "Dataplane",
        "type: Dataplane\nmesh: default\nname: d\nnetworking:\n  inbound:\n"
        "    - port: 80\n      serviceProbe: {interval: 1m}\n",
        "RC205",
        "networking.inbound[0].serviceProbe.interval",
        7,
    ),
    (
        "Dataplane",
        "type: Dataplane\nmesh: default\nname: d\nnetworking:\n  outbound:\n"
        "    - port: 80\n      tags: {kuma.io/service: 5}\n",
        "RC203",
        'networking.outbound[0].tags["kuma.io/service"]',
        7,
    ),
    (
        "MeshTrafficPermission",
        "type: MeshTrafficPermission\nname: p\nspec:\n  from:\n    - targetRef: {kind: Mesh}\n"
        "      default: {action: allow}\n",
        "RC204",
        "spec.from[0].default.action",
        6,
    ),
    (
        "MeshHTTPRoute",
        "type: MeshHTTPRoute\nname: r\nspec:\n  to:\n    - targetRef: {kind: MeshService, name: b}\n"
        "      rules:\n        - default: {}\n",
        "RC202",
        "spec.to[0].rules[0].matches",
        7,
    ),
    (
        "MeshTCPRoute",
        "type: MeshTCPRoute\nname: r\nspec:\n  to:\n    - targetRef: {kind: MeshService, name: b}\n"
        "      rules:\n        - {}\n",
        "RC202",
        "spec.to[0].rules[0].default",
        7,
    ),
    (
        "MeshTimeout",
        "type: MeshTimeout\nname: t\nspec:\n  to:\n    - targetRef: {kind: Mesh}\n      default:\n"
        "        http:\n          requestTimout: 10s\n",
        "RC201",
        "spec.to[0].default.http.requestTimout",
        8,
    ),
    (
        "MeshTimeout",
        "type: MeshTimeout\nname: t\nspec:\n  targetRef:\n    kind: MeshServce\n",
        "RC204",
        "spec.targetRef.kind",
        5,
    ),
    (
        "MeshRetry",
        "type: MeshRetry\nname: r\nspec:\n  to:\n    - targetRef: {kind: Mesh}\n      default:\n"
        "        http: {numRetries: three}\n",
        "RC203",
        "spec.to[0].default.http.numRetries",
        7,
    ),
    (
        "MeshCircuitBreaker",
        "type: MeshCircuitBreaker\nname: c\nspec:\n  to:\n    - targetRef: {kind: Mesh}\n"
        "      default:\n        outlierDetection: {healthyPanicThreshold: [50]}\n",
        "RC203",
        "spec.to[0].default.outlierDetection.healthyPanicThreshold",
        7,
    ),
    (
        "MeshHealthCheck",
        "type: MeshHealthCheck\nname: h\nspec:\n  to:\n    - targetRef: {kind: Mesh}\n"
        "      default:\n        grpc: {serviceNme: x}\n",
        "RC201",
        "spec.to[0].default.grpc.serviceNme",
        7,
    ),
    (
        "MeshLoadBalancingStrategy",
        "type: MeshLoadBalancingStrategy\nname: l\nspec:\n  to:\n    - targetRef: {kind: Mesh}\n"
        "      default:\n        loadBalancer: {type: RoundRobbin}\n",
        "RC204",
        "spec.to[0].default.loadBalancer.type",
        7,
    ),
    (
        "MeshFaultInjection",
        "type: MeshFaultInjection\nname: f\nspec:\n  from:\n    - targetRef: {kind: Mesh}\n"
        "      default:\n        http:\n          - abort: {percentage: 5}\n",
        "RC202",
        "spec.from[0].default.http[0].abort.httpStatus",
        8,
    ),
    (
        "MeshRateLimit",
        "type: MeshRateLimit\nname: r\nspec:\n  from:\n    - targetRef: {kind: Mesh}\n"
        "      default:\n        local:\n          http:\n            requestRate: {num: 1}\n",
        "RC202",
        "spec.from[0].default.local.http.requestRate.interval",
        9,
    ),
    (
        "MeshAccessLog",
        "type: MeshAccessLog\nname: a\nspec:\n  to:\n    - targetRef: {kind: Mesh}\n"
        "      default:\n        backends:\n          - type: Syslog\n",
        "RC204",
        "spec.to[0].default.backends[0].type",
        8,
    ),
    (
        "MeshAccessLog",
        "type: MeshAccessLog\nname: a\nspec: {}\nstatus: {conditions: [{type: Ready}]}\n",
        "RC202",
        "status.conditions[0].status",
        4,
    ),
]


@pytest.mark.parametrize(
    ("kind", "text", "code", "field", "line"),
    NEGATIVE,
    ids=[f"{n[0]}-{n[2]}-{n[3]}" for n in NEGATIVE],
)
def test_negative_example(kind: str, text: str, code: str, field: str, line: int) -> None:
    (resource,) = load(text)
    assert resource.kind == kind
    found = [(d.code, d.field, d.line) for d in check_schema(resource)]
    assert (code, field, line) in found, found


def test_every_kind_has_a_negative_example() -> None:
    assert {n[0] for n in NEGATIVE} == {k.value for k in Kind}


# --- the fast path: never accepts what jsonschema rejects ------------------------------


def mutations(data: Any, rng: random.Random) -> Iterator[Any]:
    """Small edits of a valid document: wrong types, unknown keys, dropped keys, odd values."""
    paths: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in list(node):
                paths.append((node, key))
                walk(node[key])
        elif isinstance(node, list):
            for index in range(len(node)):
                paths.append((node, index))
                walk(node[index])

    walk(data)
    odd_values: list[Any] = [None, True, 0, -1, 70000, 1.5, "", "x", "10s", [], {}, {"a": 1}, [1]]
    for _ in range(60):
        doc = copy.deepcopy(data)
        paths.clear()
        walk(doc)
        parent, key = rng.choice(paths)
        action = rng.randrange(3)
        if action == 0:
            parent[key] = rng.choice(odd_values)
        elif action == 1 and isinstance(parent, dict):
            del parent[key]
        elif isinstance(parent, dict):
            parent[str(key) + "x"] = parent[key]
        yield doc


@pytest.mark.parametrize("kind", sorted(POSITIVE))
def test_fast_predicate_agrees_with_jsonschema(kind: str) -> None:
    predicate = predicate_for(kind)
    assert predicate is not None, "every shipped schema compiles to a fast predicate"
    validator = validator_for(kind)
    (resource,) = load(POSITIVE[kind])
    valid = copy.deepcopy(dict(resource.data))
    assert predicate(valid)
    rng = random.Random(kind)
    rejected = 0
    for doc in mutations(valid, rng):
        has_errors = any(True for _ in validator.iter_errors(doc))
        assert predicate(doc) is not has_errors, doc
        rejected += has_errors
    assert rejected > 10  # the mutations do exercise the error side
