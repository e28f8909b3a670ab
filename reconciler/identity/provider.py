"""The identity provider: mesh CAs and per-proxy certificates, issued and renewed on demand.

Contract: :meth:`IdentityProvider.certificate` returns the proxy's current certificate and
issues a new one when none exists, when the proxy's SANs changed, when the mesh CA changed,
or when the rotation policy says it is due. The compiler calls it for every proxy on every
revision, so a recompile after :meth:`next_renewal` yields the renewed secrets, and an
unchanged certificate keeps the snapshot's content (and so its version) unchanged.
Thread-safe. Private keys stay in memory and in 0600 files; nothing here logs them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from reconciler.identity import ca as ca_files
from reconciler.identity.backend import MtlsBackend
from reconciler.identity.ca import CertificateAuthority
from reconciler.identity.issuer import IssuedCertificate, issue
from reconciler.identity.keypool import KeyAlgorithm, KeyPool
from reconciler.identity.leafstore import LeafStore
from reconciler.identity.rotation import RotationPolicy


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class CaFiles:
    """A CA given on the command line for one mesh (replicas sharing one CA)."""

    cert: Path
    key: Path


@dataclass(frozen=True, slots=True)
class IdentityOptions:
    state_dir: Path
    key_algorithm: KeyAlgorithm = KeyAlgorithm.ECDSA_P256
    pool_target: int = 64
    rotation: RotationPolicy = field(default_factory=RotationPolicy)
    ca_files: Mapping[str, CaFiles] = field(default_factory=dict)
    persist: bool = True
    """Keep proxy certificates in the state dir (a restart serves the same SDS content)."""


class IdentityProvider:
    def __init__(
        self, options: IdentityOptions, *, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.options = options
        self._clock = clock
        self._pool = KeyPool(options.key_algorithm, target=options.pool_target)
        self._lock = threading.RLock()
        self._cas: dict[tuple[str, str], CertificateAuthority] = {}
        self._certs: dict[str, IssuedCertificate] = {}
        self._store = LeafStore(options.state_dir) if options.persist else None
        self.issued = 0
        self.protected: frozenset[str] = frozenset()
        """Node ids of the proxies served mesh identity in the current revision."""

    def start(self) -> None:
        """Start filling the key pool in the background."""
        self._pool.start()

    def stop(self) -> None:
        self._pool.stop()

    def now(self) -> datetime:
        """The provider's clock (what rotation decisions compare with)."""
        return self._clock()

    def is_protected(self, node_id: str) -> bool:
        """Whether ``node_id`` is served mesh identity (private keys) in the current revision."""
        return node_id in self.protected

    @property
    def pool(self) -> KeyPool:
        return self._pool

    def reserve(self, proxies: int) -> None:
        """Keep enough keys ready for ``proxies`` new proxies at once."""
        self._pool.reserve(proxies)

    def ca(self, backend: MtlsBackend) -> CertificateAuthority:
        key = (backend.mesh, backend.name)
        with self._lock:
            found = self._cas.get(key)
            if found is None:
                given = self.options.ca_files.get(backend.mesh)
                if given is not None:
                    found = ca_files.load_ca_files(backend.mesh, given.cert, given.key)
                else:
                    found = ca_files.ensure_ca(self.options.state_dir, backend, now=self._clock())
                self._cas[key] = found
            return found

    def certificate(
        self, proxy_id: str, backend: MtlsBackend, uris: tuple[str, ...]
    ) -> IssuedCertificate:
        authority = self.ca(backend)
        now = self._clock()
        with self._lock:
            current = self._certs.get(proxy_id)
        if current is None and self._store is not None:
            current = self._store.load(proxy_id)
        with self._lock:
            if (
                current is not None
                and current.uris == uris
                and current.ca_fingerprint == authority.fingerprint
                and not self.options.rotation.is_due(current, now)
            ):
                self._certs[proxy_id] = current
                return current
        fresh = issue(
            authority,
            proxy_id=proxy_id,
            uris=uris,
            key=self._pool.take(),
            lifetime=backend.dp_cert_expiration,
            now=now,
        )
        with self._lock:
            self._certs[proxy_id] = fresh
            self.issued += 1
        if self._store is not None:
            self._store.changed()
        return fresh

    def flush(self) -> None:
        """Write the certificates to the state dir if any changed (once per revision)."""
        if self._store is not None:
            with self._lock:
                certificates = dict(self._certs)
            self._store.flush(certificates)

    def current(self, proxy_id: str) -> IssuedCertificate | None:
        with self._lock:
            return self._certs.get(proxy_id)

    def due(self) -> list[str]:
        """Proxies whose certificate the rotation policy wants renewed now."""
        now = self._clock()
        with self._lock:
            return sorted(p for p, c in self._certs.items() if self.options.rotation.is_due(c, now))

    def next_renewal(self) -> datetime | None:
        with self._lock:
            return self.options.rotation.next_renewal(self._certs.values())

    def retain(self, proxy_ids: Iterable[str]) -> None:
        """Forget certificates of proxies that no longer exist."""
        keep = set(proxy_ids)
        with self._lock:
            gone = [p for p in self._certs if p not in keep]
            for proxy_id in gone:
                del self._certs[proxy_id]
        if self._store is not None and gone:
            self._store.changed()
