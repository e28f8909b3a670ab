from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from polling import wait_for

from reconciler.identity.backend import MtlsBackend, MtlsMode
from reconciler.identity.ca import ca_dir
from reconciler.identity.keypool import KeyAlgorithm, KeyPool
from reconciler.identity.provider import CaFiles, IdentityOptions, IdentityProvider
from reconciler.identity.rotation import RotationPolicy, seconds_until

NOW = datetime(2026, 5, 1, tzinfo=UTC)
BACKEND = MtlsBackend(
    mesh="default",
    name="ca-1",
    mode=MtlsMode.STRICT,
    ca_rsa_bits=2048,
    ca_expiration=timedelta(days=365),
    dp_cert_expiration=timedelta(hours=10),
)
WEB = ("spiffe://default/web",)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def provider(state: Path, clock: Clock, **kw: object) -> IdentityProvider:
    return IdentityProvider(IdentityOptions(state_dir=state, pool_target=4, **kw), clock=clock)  # type: ignore[arg-type]


def test_certificate_is_stable_until_renewal_is_due(tmp_path: Path) -> None:
    clock = Clock()
    ids = provider(tmp_path, clock)
    first = ids.certificate("default.web-01", BACKEND, WEB)
    assert ids.certificate("default.web-01", BACKEND, WEB) is first
    renew_at = ids.next_renewal()
    assert renew_at is not None
    # Renewal happens between 70 % and 80 % of the 10 h lifetime.
    assert NOW + timedelta(hours=7) - timedelta(seconds=10) <= renew_at <= NOW + timedelta(hours=8)
    clock.now = renew_at - timedelta(seconds=1)
    assert ids.due() == []
    assert ids.certificate("default.web-01", BACKEND, WEB) is first
    clock.now = renew_at
    assert ids.due() == ["default.web-01"]
    second = ids.certificate("default.web-01", BACKEND, WEB)
    assert second.serial != first.serial and second.not_after > first.not_after
    assert ids.due() == []


def test_new_sans_or_new_ca_reissue(tmp_path: Path) -> None:
    clock = Clock()
    ids = provider(tmp_path, clock)
    first = ids.certificate("default.web-01", BACKEND, WEB)
    both = ids.certificate("default.web-01", BACKEND, (*WEB, "spiffe://default/admin"))
    assert both.serial != first.serial
    other = ids.certificate("default.web-01", BACKEND, WEB)
    assert other.uris == WEB
    ids.retain([])
    assert ids.current("default.web-01") is None


def test_replicas_share_a_ca_given_as_files(tmp_path: Path) -> None:
    clock = Clock()
    origin = provider(tmp_path / "a", clock)
    ca = origin.ca(BACKEND)
    bundle = ca_dir(tmp_path / "a", BACKEND) / "ca.pem"
    files = {"default": CaFiles(cert=bundle, key=bundle)}
    replica = provider(tmp_path / "b", clock, ca_files=files)
    assert replica.ca(BACKEND).fingerprint == ca.fingerprint
    assert not (tmp_path / "b" / "identity" / "meshes").exists()
    cert = replica.certificate("default.web-01", BACKEND, WEB)
    assert cert.ca_fingerprint == ca.fingerprint


def test_pool_serves_without_generation_and_counts_misses() -> None:
    pool = KeyPool(KeyAlgorithm.ECDSA_P256, target=3)
    pool.fill()
    assert pool.stats().ready == 3
    for _ in range(3):
        pool.take()
    assert pool.stats().misses == 0
    pool.take()
    assert pool.stats().misses == 1
    pool.reserve(5)
    pool.start()
    try:
        wait_for(lambda: pool.stats().ready >= 5, 10, "the pool filled", every=0.01)
        assert pool.stats().ready == 5
    finally:
        pool.stop()


def test_rotation_policy_and_sleep() -> None:
    policy = RotationPolicy(fraction=0.5, spread=0.0)
    assert seconds_until(None, NOW, cap=timedelta(minutes=1)) == 60
    assert seconds_until(NOW - timedelta(seconds=5), NOW, cap=timedelta(minutes=1)) == 0
    assert seconds_until(NOW + timedelta(seconds=5), NOW, cap=timedelta(minutes=1)) == 5
    assert policy.next_renewal([]) is None


def test_a_restart_serves_the_same_certificate(tmp_path: Path) -> None:
    clock = Clock()
    before = provider(tmp_path, clock)
    first = before.certificate("default.web-01", BACKEND, WEB)
    before.flush()
    stored = tmp_path / "identity" / "proxy-certificates.json"
    assert stored.stat().st_mode & 0o777 == 0o600
    again = provider(tmp_path, clock).certificate("default.web-01", BACKEND, WEB)
    assert again.serial == first.serial and again.cert_pem == first.cert_pem
    clock.now = NOW + timedelta(hours=9)  # due: the restarted server renews it
    later = provider(tmp_path, clock)
    assert later.certificate("default.web-01", BACKEND, WEB).serial != first.serial
    later.retain([])
    later.flush()
    assert provider(tmp_path, clock).pool is not None
    assert "default.web-01" not in stored.read_text()
    stored.write_text("{broken")
    assert provider(tmp_path, clock).certificate("default.db-01", BACKEND, WEB).uris == WEB
