"""MeshTLS (Kuma 2.14 ``meshtls/api/v1alpha1/validator.go``).

The shared opening checks the top-level targetRef, ``from[]`` targetRefs (``Mesh`` only)
and that ``from`` is empty when ``rules`` is set; this is ``validateDefault`` of each
``from[]`` and ``rules[]`` entry: TLS versions and ciphers only under a top-level ``Mesh``
targetRef, and a version range whose ``min`` is not above its ``max``.
"""

from __future__ import annotations

from reconciler import codes
from reconciler.validate.rules import targetrefs as t
from reconciler.validate.rules.findings import Findings, Path
from reconciler.validate.rules.tls_versions import check_version


def check_default(f: Findings, path: Path, value: object, top: str) -> None:
    if not isinstance(value, dict):
        return
    ciphers = value.get("tlsCiphers")
    if isinstance(ciphers, list) and ciphers and top != t.MESH:
        f.add(
            codes.VALUE_NOT_ALLOWED,
            (*path, "tlsCiphers"),
            "tlsCiphers can only be defined with top level targetRef kind: Mesh",
        )
    # a cipher Kuma does not know is reported by the schema's enum
    version = value.get("tlsVersion")
    if version is not None and top != t.MESH:
        f.add(
            codes.VALUE_NOT_ALLOWED,
            (*path, "tlsVersion"),
            "tlsVersion can only be defined with top level targetRef kind: Mesh",
        )
    elif isinstance(version, dict):
        check_version(f, (*path, "tlsVersion"), version)
