"""Files of the identity state: atomic writes, private files at 0600, create-once semantics.

Layout under the state directory (``identity/`` is 0700)::

    identity/meshes/<mesh>/<backend>/ca.pem    CA key + certificate (0600, written once)
    identity/meshes/<mesh>/<backend>/ca.crt    the CA certificate alone (0644, for operators)
    identity/token-signing.key                 Ed25519 key that signs proxy tokens (0600)
    identity/revoked-tokens.json               revoked token ids and proxies (0600)
    identity/proxy-certificates.json           proxy certificates and keys (0600), so a
                                               restart serves the same SDS content

Several processes may share one state directory: a file that must be created once (a CA, a
signing key) is written to a temporary name and hard-linked into place, which fails if
another process got there first; the loser then loads the winner's file.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from reconciler.errors import ReconcilerError

PRIVATE_MODE = 0o600
PUBLIC_MODE = 0o644
DIR_MODE = 0o700


class IdentityStorageError(ReconcilerError):
    """A key or certificate file cannot be read or written safely."""


def identity_dir(state_dir: Path) -> Path:
    path = state_dir / "identity"
    ensure_dir(path)
    return path


def ensure_dir(path: Path) -> None:
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)


def _temp_file(path: Path, data: bytes, mode: int, *, durable: bool = True) -> Path:
    ensure_dir(path.parent)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    return Path(name)


def write_atomic(path: Path, data: bytes, *, private: bool, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` in one step (readers see the old or the new file).

    ``durable=False`` skips the fsyncs, for files that can be recreated (a lost write only
    costs a reissue after a crash).
    """
    tmp = _temp_file(path, data, PRIVATE_MODE if private else PUBLIC_MODE, durable=durable)
    try:
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise IdentityStorageError(f"cannot write {path}: {exc.strerror}") from exc
    if durable:
        _sync_dir(path.parent)


def create_once(path: Path, data: bytes, *, private: bool) -> bool:
    """Create ``path`` with ``data`` unless it exists; True if this call created it."""
    tmp = _temp_file(path, data, PRIVATE_MODE if private else PUBLIC_MODE)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    except OSError as exc:
        raise IdentityStorageError(f"cannot create {path}: {exc.strerror}") from exc
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    _sync_dir(path.parent)
    return True


def read_private(path: Path) -> bytes:
    """Read a key file, refusing one that group or others can read (as ssh does)."""
    try:
        info = path.stat()
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise IdentityStorageError(
                f"{path} is readable by other users (mode {stat.S_IMODE(info.st_mode):o})",
                hint=f"run: chmod 600 {path}",
            )
        return path.read_bytes()
    except OSError as exc:
        raise IdentityStorageError(f"cannot read {path}: {exc.strerror}") from exc


def read_public(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise IdentityStorageError(f"cannot read {path}: {exc.strerror}") from exc


def _sync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
