"""TLS version ranges: Kuma 2.14 ``api/common/v1alpha1/tls.ValidateVersion``.

Shared by the kinds that take a ``{min, max}`` TLS version (MeshTLS, MeshExternalService).
Values outside the enum are the schema's to report; ``TLSAuto`` at either end is never
compared.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler import codes
from reconciler.validate.rules.findings import Findings, Path

VERSION_ORDER = {"TLS10": 0, "TLS11": 1, "TLS12": 2, "TLS13": 3}


def check_version(f: Findings, path: Path, version: Mapping[str, Any]) -> None:
    low, high = version.get("min"), version.get("max")
    if (
        isinstance(low, str)
        and isinstance(high, str)
        and low in VERSION_ORDER
        and high in VERSION_ORDER
        and VERSION_ORDER[low] > VERSION_ORDER[high]
    ):
        f.add(codes.VALUE_NOT_ALLOWED, (*path, "min"), "min version must be lower than max")
