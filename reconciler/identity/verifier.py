"""Checking a stream's token against the node id it claims.

Order of checks (the first failure is reported): present, well-formed, signed by a known
key, names this proxy, not expired, not revoked. Every refusal is a :class:`TokenRejected`
whose message is safe for status and logs: it never echoes the token.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from reconciler.identity.revocation import RevocationList
from reconciler.identity.tokens import (
    TokenClaims,
    TokenProblem,
    TokenRejected,
    key_id,
    parse_unverified,
)


class TokenVerifier:
    def __init__(
        self,
        public_keys: Iterable[ed25519.Ed25519PublicKey],
        *,
        revocations: RevocationList | None,
        clock: Callable[[], datetime],
        required: Callable[[str], bool] | None = None,
        key_source: str = "its signing key",
    ) -> None:
        self._keys = {key_id(k): k for k in public_keys}
        self._key_source = key_source
        """Where the server's key comes from, as the operator set it (for the refusal hint)."""
        self._revocations = revocations
        self._clock = clock
        self._required = required

    def describe_keys(self) -> str:
        """The keys tokens must be signed by, and where they come from (for the log)."""
        return f"key {', '.join(sorted(self._keys)) or 'none'} ({self._key_source})"

    def required(self, proxy_id: str) -> bool:
        """Whether ``proxy_id`` must present a token (always, unless scoped by ``required``)."""
        return self._required is None or self._required(proxy_id)

    def admit(self, token: str | None, proxy_id: str) -> TokenClaims | None:
        """At stream open: the verified claims, or None when no token is presented and none is
        required (yet). A presented token is always checked."""
        if not token and not self.required(proxy_id):
            return None
        return self.verify(token, proxy_id)

    def verify(self, token: str | None, proxy_id: str) -> TokenClaims:
        if not token:
            raise TokenRejected(
                TokenProblem.MISSING,
                f"no token for {proxy_id}: issue one with `reconciler token issue --proxy "
                f"{proxy_id} --state-dir DIR` (DIR: this server's --state-dir; or --key with "
                "its --token-key) and start Envoy with a bootstrap made with --token-file",
            )
        claims, signed, signature = parse_unverified(token)
        key = self._keys.get(claims.key_id)
        if key is None:
            raise TokenRejected(
                TokenProblem.UNKNOWN_KEY,
                f"token {claims.token_id} was signed by key {claims.key_id}; this server knows "
                f"{self.describe_keys()}: issue the token with the server's key, "
                "`reconciler token issue --state-dir DIR` with the server's --state-dir (or "
                "`--key FILE` with its --token-key)",
            )
        try:
            key.verify(signature, signed)
        except InvalidSignature:
            raise TokenRejected(TokenProblem.BAD_SIGNATURE, "token signature is invalid") from None
        if claims.proxy_id != proxy_id:
            raise TokenRejected(
                TokenProblem.WRONG_PROXY,
                f"token {claims.token_id} belongs to {claims.proxy_id}, not to {proxy_id}",
            )
        now = int(self._clock().timestamp())
        if now >= claims.expires_at:
            raise TokenRejected(
                TokenProblem.EXPIRED,
                f"token {claims.token_id} for {proxy_id} expired at "
                f"{datetime.fromtimestamp(claims.expires_at, UTC).isoformat()}",
            )
        if self._revocations is not None and self._revocations.is_revoked(claims):
            raise TokenRejected(
                TokenProblem.REVOKED, f"token {claims.token_id} for {proxy_id} was revoked"
            )
        return claims

    def recheck(self, claims: TokenClaims | None, proxy_id: str) -> TokenRejected | None:
        """Why an open stream may no longer be served (its token expired or was revoked, or it
        has none and one is now required), or None."""
        if claims is None:
            if not self.required(proxy_id):
                return None
            return TokenRejected(
                TokenProblem.MISSING,
                f"no token for {proxy_id}, which now receives mesh identity (mTLS): issue one "
                f"with `reconciler token issue --proxy {proxy_id} --state-dir DIR` (DIR: this "
                "server's --state-dir)",
            )
        if int(self._clock().timestamp()) >= claims.expires_at:
            return TokenRejected(
                TokenProblem.EXPIRED, f"token {claims.token_id} for {claims.proxy_id} expired"
            )
        if self._revocations is not None and self._revocations.is_revoked(claims):
            return TokenRejected(
                TokenProblem.REVOKED, f"token {claims.token_id} for {claims.proxy_id} was revoked"
            )
        return None
