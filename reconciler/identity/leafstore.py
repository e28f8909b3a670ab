"""Proxy certificates kept in the state dir, so a restart serves the same SDS content.

Without it every restart would issue new certificates, change every proxy's SDS version and
push secrets to the whole fleet. One JSON file per proxy (0600, written atomically but
without fsync: a file lost in a crash only costs a reissue). A file that cannot be read or
parsed is ignored and replaced at the next issue.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from pathlib import Path

from reconciler.identity import storage
from reconciler.identity.issuer import IssuedCertificate

log = logging.getLogger("reconciler.identity")

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,250}$")


class LeafStore:
    def __init__(self, state_dir: Path) -> None:
        self.directory = storage.identity_dir(state_dir) / "proxies"

    def _path(self, proxy_id: str) -> Path | None:
        return self.directory / f"{proxy_id}.json" if _SAFE.match(proxy_id) else None

    def save(self, cert: IssuedCertificate) -> None:
        path = self._path(cert.proxy_id)
        if path is None:
            return
        data = {
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
        try:
            storage.write_atomic(path, json.dumps(data).encode(), private=True, durable=False)
        except (OSError, storage.IdentityStorageError) as exc:
            log.warning(
                "cannot keep the certificate of %s in the state dir: %s", cert.proxy_id, exc
            )

    def load(self, proxy_id: str) -> IssuedCertificate | None:
        path = self._path(proxy_id)
        if path is None or not path.exists():
            return None
        try:
            raw = json.loads(storage.read_private(path))
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
        except (OSError, ValueError, KeyError, TypeError, storage.IdentityStorageError) as exc:
            log.warning("ignoring the stored certificate of %s: %s", proxy_id, exc)
            return None

    def forget(self, proxy_id: str) -> None:
        path = self._path(proxy_id)
        if path is not None:
            path.unlink(missing_ok=True)
