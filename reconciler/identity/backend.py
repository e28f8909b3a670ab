"""The enabled mTLS backend of a Mesh, read from its Kuma 2.14 ``mtls`` block.

```yaml
mtls:
  enabledBackend: ca-1
  backends:
    - name: ca-1
      type: builtin
      mode: STRICT                      # or PERMISSIVE; Kuma's default is STRICT
      dpCert: { rotation: { expiration: 1d } }
      conf: { caCert: { RSAbits: 2048, expiration: 10y } }
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from reconciler.identity.expiration import ExpirationError, parse_expiration

DEFAULT_CA_RSA_BITS = 2048
DEFAULT_CA_EXPIRATION = timedelta(days=3650)
"""Kuma's builtin CA: ``DefaultCACertValidityPeriod`` = 10 * 365 days."""
DEFAULT_DP_CERT_EXPIRATION = timedelta(hours=24)
"""Kuma's ``DefaultWorkloadCertValidityPeriod``."""
MIN_RSA_BITS = 2048
MAX_RSA_BITS = 8192


class MtlsMode(StrEnum):
    STRICT = "STRICT"
    PERMISSIVE = "PERMISSIVE"


class BackendError(ValueError):
    """The mtls block cannot be used; ``field`` is the Kuma path of the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class MtlsBackend:
    mesh: str
    name: str
    mode: MtlsMode
    ca_rsa_bits: int
    ca_expiration: timedelta
    dp_cert_expiration: timedelta


def enabled_backend(mesh: str, mesh_data: Mapping[str, Any]) -> MtlsBackend | None:
    """The backend named by ``mtls.enabledBackend``, or None when mTLS is off.

    Raises :class:`BackendError` for a backend that does not exist, is not ``builtin``, or
    carries an unusable value (the validation stage reports these with positions first).
    """
    mtls = mesh_data.get("mtls")
    if not isinstance(mtls, Mapping):
        return None
    enabled = mtls.get("enabledBackend")
    if not enabled:
        return None
    backends = mtls.get("backends") or []
    for index, backend in enumerate(backends if isinstance(backends, list) else []):
        if isinstance(backend, Mapping) and backend.get("name") == enabled:
            return _backend(mesh, f"mtls.backends[{index}]", backend)
    raise BackendError("mtls.enabledBackend", f"no backend is named {enabled!r}")


def _backend(mesh: str, path: str, backend: Mapping[str, Any]) -> MtlsBackend:
    kind = backend.get("type", "builtin")
    if kind != "builtin":
        raise BackendError(
            f"{path}.type", f"type {kind!r} is not supported; only 'builtin' CAs are implemented"
        )
    mode_text = str(backend.get("mode") or MtlsMode.STRICT)
    try:
        mode = MtlsMode(mode_text)
    except ValueError:
        raise BackendError(f"{path}.mode", f"{mode_text!r} is not STRICT or PERMISSIVE") from None
    ca_cert = _mapping(_mapping(backend.get("conf")).get("caCert"))
    bits = ca_cert.get("RSAbits", DEFAULT_CA_RSA_BITS)
    if (
        not isinstance(bits, int)
        or isinstance(bits, bool)
        or not MIN_RSA_BITS <= bits <= MAX_RSA_BITS
    ):
        raise BackendError(
            f"{path}.conf.caCert.RSAbits",
            f"{bits!r} is not a key size between {MIN_RSA_BITS} and {MAX_RSA_BITS}",
        )
    rotation = _mapping(_mapping(backend.get("dpCert")).get("rotation"))
    return MtlsBackend(
        mesh=mesh,
        name=str(backend.get("name")),
        mode=mode,
        ca_rsa_bits=bits,
        ca_expiration=_duration(
            f"{path}.conf.caCert.expiration", ca_cert.get("expiration"), DEFAULT_CA_EXPIRATION
        ),
        dp_cert_expiration=_duration(
            f"{path}.dpCert.rotation.expiration",
            rotation.get("expiration"),
            DEFAULT_DP_CERT_EXPIRATION,
        ),
    )


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _duration(field: str, value: object, default: timedelta) -> timedelta:
    if value is None or value == "":
        return default
    try:
        return parse_expiration(str(value))
    except ExpirationError as exc:
        raise BackendError(field, str(exc)) from None
