"""Revoked proxy tokens, kept in the state dir so every process sharing it sees them.

``identity/revoked-tokens.json`` (0600)::

    {"tokens": {"<jti>": <exp>}, "proxies": {"<mesh>.<name>": <revoked before, Unix s>}}

A token id is remembered until its own expiry, then pruned. Revoking a proxy refuses every
token issued for it up to that second; tokens issued afterwards work again. Readers reload
the file when its modification time changes, so ``reconciler token revoke`` reaches a
running server without a restart.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.identity import storage
from reconciler.identity.tokens import TokenClaims

FILE_NAME = "revoked-tokens.json"


@dataclass(slots=True)
class _Entries:
    tokens: dict[str, int] = field(default_factory=dict)
    proxies: dict[str, int] = field(default_factory=dict)


class RevocationList:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._mtime: int | None = None
        self._entries = _Entries()

    @classmethod
    def in_state_dir(cls, state_dir: Path) -> RevocationList:
        return cls(storage.identity_dir(state_dir) / FILE_NAME)

    def is_revoked(self, claims: TokenClaims) -> bool:
        with self._lock:
            self._reload()
            if claims.token_id in self._entries.tokens:
                return True
            before = self._entries.proxies.get(claims.proxy_id)
            return before is not None and claims.issued_at <= before

    def revoke_token(self, token_id: str, expires_at: int, *, now: int) -> None:
        with self._lock:
            self._reload()
            self._entries.tokens[token_id] = expires_at
            self._save(now)

    def revoke_proxy(self, proxy_id: str, *, now: int) -> None:
        with self._lock:
            self._reload()
            self._entries.proxies[proxy_id] = now
            self._save(now)

    def snapshot(self) -> tuple[dict[str, int], dict[str, int]]:
        with self._lock:
            self._reload()
            return dict(self._entries.tokens), dict(self._entries.proxies)

    def _reload(self) -> None:
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            self._mtime, self._entries = None, _Entries()
            return
        if mtime == self._mtime:
            return
        raw = json.loads(storage.read_private(self.path) or b"{}")
        self._entries = _Entries(
            tokens={str(k): int(v) for k, v in dict(raw.get("tokens", {})).items()},
            proxies={str(k): int(v) for k, v in dict(raw.get("proxies", {})).items()},
        )
        self._mtime = mtime

    def _save(self, now: int) -> None:
        self._entries.tokens = {k: v for k, v in self._entries.tokens.items() if v >= now}
        data = {"tokens": self._entries.tokens, "proxies": self._entries.proxies}
        storage.write_atomic(
            self.path, json.dumps(data, indent=1, sort_keys=True).encode(), private=True
        )
        self._mtime = self.path.stat().st_mtime_ns
