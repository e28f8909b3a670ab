"""Certificate issuance for N proxies: ECDSA P-256 leaf keys (default) versus RSA.

Run: .venv/bin/python bench/identity.py [--proxies 1000]

Prints a markdown table. "issue" is what a new proxy waits for (keys come from the
pre-generated pool: one CA signature and the PEM encoding); "keygen" is the pool's
background work; "SDS" is building and serializing the two Secret messages per proxy.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

# bench/ holds scripts whose names (validate.py) shadow packages of xds-protos: run from the
# repository root instead of this directory.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from reconciler.identity.backend import MtlsBackend, MtlsMode  # noqa: E402
from reconciler.identity.ca import create_ca  # noqa: E402
from reconciler.identity.issuer import issue  # noqa: E402
from reconciler.identity.keypool import KeyAlgorithm, KeyPool  # noqa: E402
from reconciler.identity.provider import IdentityOptions, IdentityProvider  # noqa: E402
from reconciler.identity.sds import identity_secret, mesh_ca_secret  # noqa: E402

NOW = datetime.now(UTC)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:.2f} ms"


def bench_algorithm(algorithm: KeyAlgorithm, proxies: int, ca_bits: int, sample: int) -> list[str]:
    """Keygen is timed on ``sample`` keys (RSA keys take tens of ms each) and scaled."""
    ca = create_ca("default", rsa_bits=ca_bits, expiration=timedelta(days=3650), now=NOW)
    pool = KeyPool(algorithm, target=sample)
    start = time.perf_counter()
    pool.fill()
    keygen_per_key = (time.perf_counter() - start) / sample
    keys = [pool.take() for _ in range(sample)]
    per_proxy: list[float] = []
    cpu = time.process_time()
    start = time.perf_counter()
    for i in range(proxies):
        t0 = time.perf_counter()
        issue(
            ca,
            proxy_id=f"default.svc-{i}",
            uris=(f"spiffe://default/svc-{i % 50}", f"kuma://kuma.io/service/svc-{i % 50}"),
            key=keys[i % sample],
            lifetime=timedelta(hours=24),
            now=NOW,
        )
        per_proxy.append(time.perf_counter() - t0)
    total = time.perf_counter() - start
    cpu = time.process_time() - cpu
    p99 = statistics.quantiles(per_proxy, n=100)[98]
    return [
        f"{algorithm} leaf, RSA-{ca_bits} CA",
        str(proxies),
        _ms(total),
        _ms(cpu),
        _ms(statistics.median(per_proxy)),
        _ms(p99),
        _ms(keygen_per_key),
        _ms(keygen_per_key * proxies),
    ]


def bench_provider(proxies: int) -> list[str]:
    """The provider path the compiler uses (cache check + issue), cold then warm."""
    backend = MtlsBackend(
        "default", "ca-1", MtlsMode.STRICT, 2048, timedelta(days=3650), timedelta(hours=24)
    )
    with tempfile.TemporaryDirectory() as state:
        ids = IdentityProvider(IdentityOptions(state_dir=Path(state), pool_target=proxies))
        ids.ca(backend)
        ids.pool.fill()
        start = time.perf_counter()
        for i in range(proxies):
            ids.certificate(f"default.svc-{i}", backend, (f"spiffe://default/svc-{i % 50}",))
        ids.flush()  # kept in the state dir, once per revision
        cold = time.perf_counter() - start
        start = time.perf_counter()
        for i in range(proxies):
            ids.certificate(f"default.svc-{i}", backend, (f"spiffe://default/svc-{i % 50}",))
        warm = time.perf_counter() - start
        start = time.perf_counter()
        size = 0
        for i in range(proxies):
            cert = ids.certificate(f"default.svc-{i}", backend, (f"spiffe://default/svc-{i % 50}",))
            size += len(identity_secret(cert).SerializeToString())
            size += len(mesh_ca_secret(ids.ca(backend)).SerializeToString())
        sds = time.perf_counter() - start
    return [_ms(cold), _ms(warm), _ms(sds), f"{size // proxies} B"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--proxies", type=int, default=1000)
    args = parser.parse_args()
    n = args.proxies
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}\n"
    )
    print(
        "| leaf key / CA | proxies | issue all (keys pooled), wall | CPU | issue p50 | issue p99 | keygen per key (pool, background) | keygen for all proxies |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for algorithm, bits, sample in (
        (KeyAlgorithm.ECDSA_P256, 2048, n),
        (KeyAlgorithm.ECDSA_P256, 4096, n),
        (KeyAlgorithm.RSA_2048, 2048, 40),
        (KeyAlgorithm.RSA_3072, 2048, 10),
    ):
        print("| " + " | ".join(bench_algorithm(algorithm, n, bits, sample)) + " |")
    print()
    print(
        f"| provider path, ECDSA, {n} proxies | cold (issue) | warm (cached) | build + serialize 2 SDS secrets each | bytes per proxy |"
    )
    print("|---|---|---|---|---|")
    print("| IdentityProvider.certificate | " + " | ".join(bench_provider(n)) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
