from __future__ import annotations

from datetime import timedelta

import pytest

from reconciler.identity.backend import (
    DEFAULT_CA_EXPIRATION,
    DEFAULT_DP_CERT_EXPIRATION,
    BackendError,
    MtlsMode,
    enabled_backend,
)
from reconciler.identity.expiration import ExpirationError, format_expiration, parse_expiration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10y", timedelta(days=3650)),
        ("1d", timedelta(days=1)),
        ("24h", timedelta(hours=24)),
        ("1h30m", timedelta(minutes=90)),
        ("1.5h", timedelta(minutes=90)),
        ("90s", timedelta(seconds=90)),
        ("1d12h", timedelta(hours=36)),
        ("500ms", timedelta(milliseconds=500)),
    ],
)
def test_kuma_durations(text: str, expected: timedelta) -> None:
    assert parse_expiration(text) == expected


@pytest.mark.parametrize("text", ["", "10", "1x", "-1d", "0s", "d", "1d 2h", "1y-", "P1D"])
def test_bad_durations_say_what_is_accepted(text: str) -> None:
    with pytest.raises(ExpirationError, match=r"duration|longer than zero"):
        parse_expiration(text)


def test_format_round_trips() -> None:
    for text in ("10y", "1d", "12h", "5m", "7s"):
        assert format_expiration(parse_expiration(text)) == text


MESH = {
    "type": "Mesh",
    "name": "default",
    "mtls": {
        "enabledBackend": "ca-1",
        "backends": [
            {"name": "other", "type": "builtin"},
            {
                "name": "ca-1",
                "type": "builtin",
                "mode": "PERMISSIVE",
                "dpCert": {"rotation": {"expiration": "1d"}},
                "conf": {"caCert": {"RSAbits": 3072, "expiration": "1y"}},
            },
        ],
    },
}


def test_enabled_backend_reads_kuma_fields() -> None:
    backend = enabled_backend("default", MESH)
    assert backend is not None
    assert backend.name == "ca-1"
    assert backend.mode is MtlsMode.PERMISSIVE
    assert backend.ca_rsa_bits == 3072
    assert backend.ca_expiration == timedelta(days=365)
    assert backend.dp_cert_expiration == timedelta(days=1)


def test_defaults_follow_kuma() -> None:
    backend = enabled_backend(
        "m", {"mtls": {"enabledBackend": "b", "backends": [{"name": "b", "type": "builtin"}]}}
    )
    assert backend is not None
    assert backend.mode is MtlsMode.STRICT
    assert backend.ca_rsa_bits == 2048
    assert backend.ca_expiration == DEFAULT_CA_EXPIRATION
    assert backend.dp_cert_expiration == DEFAULT_DP_CERT_EXPIRATION


def test_no_mtls_means_no_backend() -> None:
    assert enabled_backend("m", {"name": "m"}) is None
    assert enabled_backend("m", {"mtls": {"backends": [{"name": "b"}]}}) is None


@pytest.mark.parametrize(
    ("backend", "field"),
    [
        ({"name": "b", "type": "provided"}, "mtls.backends[0].type"),
        ({"name": "b", "mode": "LAX"}, "mtls.backends[0].mode"),
        (
            {"name": "b", "conf": {"caCert": {"RSAbits": 512}}},
            "mtls.backends[0].conf.caCert.RSAbits",
        ),
        (
            {"name": "b", "dpCert": {"rotation": {"expiration": "soon"}}},
            "mtls.backends[0].dpCert.rotation.expiration",
        ),
    ],
)
def test_unusable_backend_names_the_field(backend: dict[str, object], field: str) -> None:
    with pytest.raises(BackendError) as info:
        enabled_backend("m", {"mtls": {"enabledBackend": "b", "backends": [backend]}})
    assert info.value.field == field


def test_missing_enabled_backend() -> None:
    with pytest.raises(BackendError, match="no backend is named 'x'"):
        enabled_backend("m", {"mtls": {"enabledBackend": "x", "backends": []}})
