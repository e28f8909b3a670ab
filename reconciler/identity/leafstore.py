"""Proxy certificates kept in the state dir, so a restart serves the same SDS content.

Without it every restart would issue new certificates, change every proxy's SDS version and
push secrets to the whole fleet. All certificates live in one JSON file
(``identity/proxy-certificates.json``, 0600), read once on first use and rewritten
atomically after a revision that issued or dropped any (:meth:`LeafStore.flush`): one write
per revision, not one per proxy. A file that cannot be read is ignored (and logged): the
proxies then get new certificates, as on a first start.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from reconciler.identity import storage
from reconciler.identity.issuer import IssuedCertificate

log = logging.getLogger("reconciler.identity")

FILE_NAME = "proxy-certificates.json"


class LeafStore:
    def __init__(self, state_dir: Path) -> None:
        self.path = storage.identity_dir(state_dir) / FILE_NAME
        self._stored: dict[str, IssuedCertificate] | None = None
        self.dirty = False

    def load(self, proxy_id: str) -> IssuedCertificate | None:
        if self._stored is None:
            self._stored = self._read()
        return self._stored.get(proxy_id)

    def changed(self) -> None:
        """A certificate was issued or dropped: the next :meth:`flush` writes the file."""
        self.dirty = True

    def flush(self, certificates: Mapping[str, IssuedCertificate]) -> None:
        if not self.dirty:
            return
        data = {p: _to_json(c) for p, c in sorted(certificates.items())}
        try:
            storage.write_atomic(self.path, json.dumps(data).encode(), private=True)
        except (OSError, storage.IdentityStorageError) as exc:
            log.warning("cannot keep proxy certificates in %s: %s", self.path, exc)
            return
        self._stored = dict(certificates)
        self.dirty = False

    def _read(self) -> dict[str, IssuedCertificate]:
        if not self.path.exists():
            return {}
        try:
            raw = json.loads(storage.read_private(self.path))
            return {str(p): _from_json(c) for p, c in dict(raw).items()}
        except (OSError, ValueError, KeyError, TypeError, storage.IdentityStorageError) as exc:
            log.warning("ignoring stored proxy certificates in %s: %s", self.path, exc)
            return {}


def _to_json(cert: IssuedCertificate) -> dict[str, Any]:
    return {
        "proxy": cert.proxy_id,
        "mesh": cert.mesh,
        "uris": list(cert.uris),
        "serial": str(cert.serial),
        "notBefore": cert.not_before.isoformat(),
        "notAfter": cert.not_after.isoformat(),
        "issuedAt": cert.issued_at.isoformat(),
        "ca": cert.ca_fingerprint,
        "cert": cert.cert_pem.decode("ascii"),
        "key": cert.key_pem.decode("ascii"),
    }


def _from_json(raw: Mapping[str, Any]) -> IssuedCertificate:
    return IssuedCertificate(
        proxy_id=raw["proxy"],
        mesh=raw["mesh"],
        uris=tuple(raw["uris"]),
        serial=int(raw["serial"]),
        not_before=datetime.fromisoformat(raw["notBefore"]),
        not_after=datetime.fromisoformat(raw["notAfter"]),
        issued_at=datetime.fromisoformat(raw["issuedAt"]),
        ca_fingerprint=raw["ca"],
        cert_pem=raw["cert"].encode("ascii"),
        key_pem=raw["key"].encode("ascii"),
    )
