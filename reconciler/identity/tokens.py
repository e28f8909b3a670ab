"""Proxy tokens: proof that an xDS stream is the Dataplane its node id names.

Format (compact, URL-safe, one line)::

    rct1.<base64url(JSON claims)>.<base64url(Ed25519 signature over "rct1.<claims>")>

Claims: ``sub`` proxy id ``<mesh>.<name>``, ``jti`` token id, ``iat``/``exp`` (Unix seconds),
``kid`` (the first 16 hex digits of SHA-256 over the raw public key). Envoy sends the token
in gRPC initial metadata as ``authorization: Bearer <token>``. The signing key lives in the
state dir (0600) or in a file shared by replicas; verification needs only its public half.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from reconciler.errors import ReconcilerError
from reconciler.identity import storage

PREFIX = "rct1"
METADATA_KEY = "authorization"
BEARER = "Bearer "
SIGNING_KEY_FILE = "token-signing.key"
MAX_TOKEN_LENGTH = 4096
DEFAULT_TTL = timedelta(days=365)


class TokenProblem(StrEnum):
    MISSING = "missing"
    MALFORMED = "malformed"
    UNKNOWN_KEY = "unknown-key"
    BAD_SIGNATURE = "bad-signature"
    EXPIRED = "expired"
    WRONG_PROXY = "wrong-proxy"
    REVOKED = "revoked"


class TokenRejected(ReconcilerError):
    """A stream's token does not prove its node id; ``problem`` says why."""

    def __init__(self, problem: TokenProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class TokenClaims:
    proxy_id: str
    token_id: str
    issued_at: int
    expires_at: int
    key_id: str

    def to_json(self) -> dict[str, Any]:
        return {
            "sub": self.proxy_id,
            "jti": self.token_id,
            "iat": self.issued_at,
            "exp": self.expires_at,
            "kid": self.key_id,
        }


def key_id(public: ed25519.Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    def __init__(self, key: ed25519.Ed25519PrivateKey) -> None:
        self._key = key
        self.key_id = key_id(key.public_key())

    def __repr__(self) -> str:
        return f"TokenSigner(key_id={self.key_id!r})"

    @property
    def public_key(self) -> ed25519.Ed25519PublicKey:
        return self._key.public_key()

    def issue(self, proxy_id: str, *, ttl: timedelta, now: datetime) -> tuple[str, TokenClaims]:
        issued = int(now.timestamp())
        claims = TokenClaims(
            proxy_id=proxy_id,
            token_id=secrets.token_hex(16),
            issued_at=issued,
            expires_at=issued + int(ttl.total_seconds()),
            key_id=self.key_id,
        )
        body = json.dumps(claims.to_json(), sort_keys=True, separators=(",", ":")).encode()
        signed = f"{PREFIX}.{_b64(body)}"
        return f"{signed}.{_b64(self._key.sign(signed.encode('ascii')))}", claims


def load_or_create_signer(state_dir: Path) -> TokenSigner:
    """The state dir's signing key, created once (0600) if absent."""
    path = storage.identity_dir(state_dir) / SIGNING_KEY_FILE
    if not path.exists():
        pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        storage.create_once(path, pem, private=True)
    return load_signer(path)


def load_signer(path: Path) -> TokenSigner:
    try:
        key = serialization.load_pem_private_key(storage.read_private(path), password=None)
    except ValueError:
        raise storage.IdentityStorageError(f"{path}: not a PEM private key") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise storage.IdentityStorageError(f"{path}: the token signing key must be Ed25519")
    return TokenSigner(key)


def parse_unverified(token: str) -> tuple[TokenClaims, bytes, bytes]:
    """Claims, signed bytes and signature of a well-formed token (signature not checked)."""
    token = token.strip()
    if token.startswith(BEARER):
        token = token[len(BEARER) :].strip()
    parts = token.split(".")
    if len(token) > MAX_TOKEN_LENGTH or len(parts) != 3 or parts[0] != PREFIX:
        raise TokenRejected(TokenProblem.MALFORMED, f"not a reconciler token (want {PREFIX}.…)")
    try:
        raw = json.loads(_unb64(parts[1]))
        signature = _unb64(parts[2])
        claims = TokenClaims(
            proxy_id=_str(raw, "sub"),
            token_id=_str(raw, "jti"),
            issued_at=_int(raw, "iat"),
            expires_at=_int(raw, "exp"),
            key_id=_str(raw, "kid"),
        )
    except (binascii.Error, ValueError, TypeError, KeyError) as exc:
        raise TokenRejected(TokenProblem.MALFORMED, f"token cannot be decoded: {exc}") from None
    return claims, f"{parts[0]}.{parts[1]}".encode("ascii"), signature


def _str(raw: Any, key: str) -> str:
    value = raw[key]
    if not isinstance(value, str) or not value:
        raise ValueError(f"claim {key!r} must be a non-empty string")
    return value


def _int(raw: Any, key: str) -> int:
    value = raw[key]
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"claim {key!r} must be an integer")
    return value
