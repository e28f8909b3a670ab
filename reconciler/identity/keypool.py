"""Pre-generated leaf keys, so that issuing a certificate never waits on key generation.

A background thread keeps ``target`` keys ready. :meth:`KeyPool.take` pops one; only when the
pool is empty (a burst larger than the target) does it generate inline, and it counts that
as a miss so the operator can raise the target. ECDSA P-256 is the default (about 30 µs a
key); RSA-2048 takes tens of milliseconds a key, which is what the pool hides.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from enum import StrEnum

from cryptography.hazmat.primitives.asymmetric import ec, rsa

LeafKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


class KeyAlgorithm(StrEnum):
    ECDSA_P256 = "ecdsa-p256"
    RSA_2048 = "rsa-2048"
    RSA_3072 = "rsa-3072"


def generate_key(algorithm: KeyAlgorithm) -> LeafKey:
    match algorithm:
        case KeyAlgorithm.ECDSA_P256:
            return ec.generate_private_key(ec.SECP256R1())
        case KeyAlgorithm.RSA_2048:
            return rsa.generate_private_key(public_exponent=65537, key_size=2048)
        case KeyAlgorithm.RSA_3072:
            return rsa.generate_private_key(public_exponent=65537, key_size=3072)


@dataclass(frozen=True, slots=True)
class PoolStats:
    algorithm: str
    ready: int
    target: int
    generated: int
    misses: int
    """Keys generated inline because the pool was empty."""


class KeyPool:
    """Thread-safe pool of private keys of one algorithm, refilled by a daemon thread."""

    def __init__(
        self, algorithm: KeyAlgorithm = KeyAlgorithm.ECDSA_P256, *, target: int = 64
    ) -> None:
        self.algorithm = algorithm
        self._target = max(1, target)
        self._keys: deque[LeafKey] = deque()
        self._lock = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._generated = 0
        self._misses = 0

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._stopping = False
            self._thread = threading.Thread(
                target=self._run, name=f"keypool-{self.algorithm}", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    def reserve(self, count: int) -> None:
        """Keep at least ``count`` keys ready (e.g. the number of proxies expected)."""
        with self._lock:
            if count > self._target:
                self._target = count
                self._lock.notify_all()

    def fill(self) -> None:
        """Generate up to the target now, in the calling thread (startup, benchmarks)."""
        while True:
            with self._lock:
                if len(self._keys) >= self._target:
                    return
            key = generate_key(self.algorithm)
            with self._lock:
                self._keys.append(key)
                self._generated += 1

    def take(self) -> LeafKey:
        with self._lock:
            if self._keys:
                key = self._keys.popleft()
                self._lock.notify_all()
                return key
            self._misses += 1
        key = generate_key(self.algorithm)
        with self._lock:
            self._generated += 1
        return key

    def stats(self) -> PoolStats:
        with self._lock:
            return PoolStats(
                str(self.algorithm), len(self._keys), self._target, self._generated, self._misses
            )

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._stopping and len(self._keys) >= self._target:
                    self._lock.wait(timeout=30.0)
                if self._stopping:
                    return
            key = generate_key(self.algorithm)
            with self._lock:
                self._keys.append(key)
                self._generated += 1
