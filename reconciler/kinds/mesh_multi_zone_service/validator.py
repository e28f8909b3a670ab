"""MeshMultiZoneService (Kuma 2.14 ``meshmultizoneservice/api/v1alpha1/validator.go``).

An empty ``ports`` list is rejected by the schema (Kuma's REST schema has ``minItems: 1``).
An omitted ``appProtocol`` takes Kuma's default (``tcp``).
"""

from __future__ import annotations

from reconciler import codes
from reconciler.model import Resource
from reconciler.validate.rules.findings import Findings, as_list, as_map
from reconciler.validate.rules.values import one_of

SUPPORTED_PROTOCOLS = ("grpc", "http", "http2", "kafka", "tcp")


def check(f: Findings, resource: Resource) -> None:
    spec = resource.spec
    service = as_map(as_map(spec.get("selector")).get("meshService"))
    labels = service.get("matchLabels")
    if labels is None or labels == {}:
        f.add(codes.SETTING_MISSING, ("selector", "meshService", "matchLabels"), "cannot be empty")
    for i, port in enumerate(as_list(spec.get("ports"))):
        p = as_map(port)
        if p.get("name") == "":
            f.add(codes.SETTING_MISSING, ("ports", i, "name"), "must not be empty")
        protocol = p.get("appProtocol")
        if isinstance(protocol, str) and protocol not in SUPPORTED_PROTOCOLS:
            f.add(
                codes.VALUE_NOT_ALLOWED,
                ("ports", i, "appProtocol"),
                one_of("appProtocol", SUPPORTED_PROTOCOLS),
            )
