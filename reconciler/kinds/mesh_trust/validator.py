"""MeshTrust (Kuma 2.14 ``meshtrust/api/v1alpha1/validator.go``): CA bundles, trust domain.

Kuma's REST schema (ours too) already requires ``caBundles`` with at least one item,
``trustDomain`` at most 253 characters and ``type: Pem``; the rules here are the rest.
"""

from __future__ import annotations

import base64
import binascii
import re

from reconciler import codes
from reconciler.model import Resource
from reconciler.validate.rules.findings import Findings, as_list, as_map

PEM = "Pem"
_PEM_BLOCK = re.compile(
    r"-----BEGIN (?P<type>[^-\n]*)-----\r?\n(?P<body>.*?)-----END (?P=type)-----", re.DOTALL
)
_PRIVATE_KEYS = frozenset(
    {"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY"}
)


def check(f: Findings, resource: Resource) -> None:
    spec = resource.spec
    for i, bundle in enumerate(as_list(spec.get("caBundles"))):
        b = as_map(bundle)
        if b.get("type") != PEM:
            continue  # the schema's enum reports other types
        pem = b.get("pem")
        if pem is None:
            f.add(codes.SETTING_MISSING, ("caBundles", i, "pem"), "must be defined")
            continue
        value = as_map(pem).get("value")
        if isinstance(value, str) and not is_pem_certificate(value):
            f.add(
                codes.CA_BUNDLE_INVALID,
                ("caBundles", i, "pem", "value"),
                "provided certificate has incorrect format",
            )
    if spec.get("trustDomain") == "":
        f.add(codes.SETTING_MISSING, ("trustDomain",), "trustDomain needs to be defined")


def is_pem_certificate(text: str) -> bool:
    """Go ``pem.Decode`` finds a first well-formed block, and it is not a private key."""
    for match in _PEM_BLOCK.finditer(text):
        if _is_base64(match.group("body")):
            return match.group("type") not in _PRIVATE_KEYS
    return False


def _is_base64(body: str) -> bool:
    lines = [line for line in body.splitlines() if ":" not in line]  # skip PEM headers
    try:
        base64.b64decode("".join("".join(lines).split()), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True
