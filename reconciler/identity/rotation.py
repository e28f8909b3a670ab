"""When a proxy certificate is renewed: at a fraction of its lifetime, spread per proxy.

A certificate is renewed once ``fraction`` of its lifetime has passed, minus a jitter of up
to ``spread`` of the lifetime derived from the proxy id (stable across restarts and
replicas), so a thousand certificates issued together are not all renewed in the same
second. Envoy swaps an SDS secret for new connections only; open connections keep going,
which is why renewal long before expiry loses no request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from reconciler.identity.issuer import IssuedCertificate

DEFAULT_FRACTION = 0.8
DEFAULT_SPREAD = 0.1


@dataclass(frozen=True, slots=True)
class RotationPolicy:
    fraction: float = DEFAULT_FRACTION
    spread: float = DEFAULT_SPREAD

    def __post_init__(self) -> None:
        if not (self.fraction - self.spread > 0.0 and self.fraction < 1.0):
            raise ValueError("need 0 < fraction - spread and fraction < 1")

    def renew_at(self, cert: IssuedCertificate) -> datetime:
        digest = hashlib.sha256(cert.proxy_id.encode()).digest()
        jitter = int.from_bytes(digest[:4], "big") / 2**32 * self.spread
        return cert.renew_at(self.fraction - jitter)

    def is_due(self, cert: IssuedCertificate, now: datetime) -> bool:
        return now >= self.renew_at(cert)

    def next_renewal(self, certs: Iterable[IssuedCertificate]) -> datetime | None:
        return min((self.renew_at(c) for c in certs), default=None)


def seconds_until(when: datetime | None, now: datetime, *, cap: timedelta) -> float:
    """How long a scheduler may sleep: until ``when``, never more than ``cap``, never < 0."""
    if when is None:
        return cap.total_seconds()
    return max(0.0, min((when - now).total_seconds(), cap.total_seconds()))
