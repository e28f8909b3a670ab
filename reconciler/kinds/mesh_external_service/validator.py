"""MeshExternalService (Kuma 2.14 ``meshexternalservice/api/v1alpha1/validator.go``).

Name length, the ``match``, and (unless an ``extension`` takes over) the endpoints and TLS.
Kuma's REST schema, which our schema follows, already rejects unknown enum values
(``match.type``/``protocol``, TLS versions, verification mode, SAN match type) and ports
outside 1-65535, before Kuma's validator runs; the rules here are the rest of the validator.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler import codes
from reconciler.model import Resource
from reconciler.validate.rules.findings import Findings, as_map
from reconciler.validate.rules.values import is_dns_name, is_go_ip, name_length

MAX_NAME_LENGTH = 63
TLS_VERSION_ORDER = {"TLS10": 0, "TLS11": 1, "TLS12": 2, "TLS13": 3}


def check(f: Findings, resource: Resource) -> None:
    name_length(f, MAX_NAME_LENGTH)
    spec = resource.spec
    extension = spec.get("extension")
    if extension is None:
        endpoints = spec.get("endpoints")
        if isinstance(endpoints, list):
            _check_endpoints(f, endpoints)
        tls = spec.get("tls")
        if isinstance(tls, dict):
            _check_tls(f, tls)
    elif as_map(extension).get("type") == "":
        f.add(codes.SETTING_MISSING, ("extension", "type"), "must not be empty")
    if extension is not None:
        f.add(
            codes.NOT_APPLIED,
            ("extension",),
            "not applied by the reconciler: extensions (a ZoneEgress plugin builds the cluster)",
        )
    f.add(
        codes.EXTERNAL_WITHOUT_EGRESS,
        (),
        "applied without a ZoneEgress: each sidecar with an outbound to this service "
        "connects to its endpoints directly (Kuma 2.14 goes through a ZoneEgress with "
        "mesh mTLS)",
    )


def _check_endpoints(f: Findings, endpoints: list[Any]) -> None:
    for i, endpoint in enumerate(endpoints):
        address = as_map(endpoint).get("address")
        if isinstance(address, str) and address and not (is_go_ip(address) or is_dns_name(address)):
            f.add(
                codes.NAME_FORMAT,
                ("endpoints", i, "address"),
                "address has to be a valid IP or hostname",
            )


def _check_tls(f: Findings, tls: Mapping[str, Any]) -> None:
    version = as_map(tls.get("version"))
    low, high = str(version.get("min")), str(version.get("max"))
    if (
        low in TLS_VERSION_ORDER
        and high in TLS_VERSION_ORDER
        and TLS_VERSION_ORDER[low] > TLS_VERSION_ORDER[high]
    ):
        f.add(
            codes.SETTINGS_CONFLICT, ("tls", "version", "min"), "min version must be lower than max"
        )
    verification = tls.get("verification")
    if not isinstance(verification, dict):
        return
    path = ("tls", "verification")
    server_name = verification.get("serverName")
    if isinstance(server_name, str) and not is_dns_name(server_name):
        f.add(codes.NAME_FORMAT, (*path, "serverName"), "must be a valid DNS name")
    cert, key = verification.get("clientCert"), verification.get("clientKey")
    if cert is not None and key is None:
        f.add(
            codes.SETTING_MISSING,
            (*path, "clientKey"),
            "must be defined when clientCert is defined",
        )
    if cert is None and key is not None:
        f.add(
            codes.SETTING_MISSING,
            (*path, "clientCert"),
            "must be defined when clientKey is defined",
        )
