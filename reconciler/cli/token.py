"""``reconciler token issue|revoke|inspect``: the tokens that let a proxy receive its config.

``issue --proxy MESH.NAME`` prints a token signed with the state dir's key (or ``--key``);
Envoy presents it through a bootstrap made with ``reconciler bootstrap --token-file``.
``revoke`` takes a token (file or ``-`` for stdin), a token id, or ``--proxy`` to refuse
every token issued for that proxy so far.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from reconciler.cli.exit_codes import Exit
from reconciler.errors import UsageError
from reconciler.identity import storage
from reconciler.identity.expiration import ExpirationError, format_expiration, parse_expiration
from reconciler.identity.revocation import FILE_NAME as REVOCATIONS_FILE
from reconciler.identity.revocation import RevocationList
from reconciler.identity.tokens import (
    DEFAULT_TTL,
    SIGNING_KEY_FILE,
    TokenClaims,
    TokenRejected,
    load_or_create_signer,
    load_signer,
    parse_unverified,
)
from reconciler.journal import default_state_dir

_PROXY_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,252}\.[A-Za-z0-9][A-Za-z0-9._-]*$")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    issue = sub.add_parser("issue", help="print a new token for one proxy")
    issue.add_argument("--proxy", required=True, metavar="MESH.NAME", help="the proxy's node id")
    issue.add_argument(
        "--ttl",
        default=format_expiration(DEFAULT_TTL),
        help="lifetime, Kuma duration such as 30d, 12h, 1y (default: %(default)s)",
    )
    issue.add_argument("-o", "--output", type=Path, help="write the token to this file (0600)")
    revoke = sub.add_parser("revoke", help="refuse a token, or every token of a proxy")
    target = revoke.add_mutually_exclusive_group(required=True)
    target.add_argument("--token-file", type=Path, help="the token to revoke ('-' for stdin)")
    target.add_argument("--id", dest="token_id", help="the token id (jti) to revoke")
    target.add_argument("--proxy", metavar="MESH.NAME", help="revoke every token issued so far")
    inspect = sub.add_parser(
        "inspect",
        help="show a token's proxy, times (ISO 8601 UTC), key and whether it is revoked "
        "(per --state-dir; the signature is not checked)",
    )
    inspect.add_argument("token_file", type=Path, help="the token file ('-' for stdin)")
    for p in (issue, revoke, inspect):
        p.add_argument(
            "--state-dir",
            type=Path,
            default=None,
            help=f"where the signing key and revocations live (default: {default_state_dir()})",
        )
        p.add_argument(
            "--key",
            type=Path,
            default=None,
            help="Ed25519 signing key file shared by replicas (default: <state-dir>/identity/"
            "token-signing.key, created on first use)",
        )


@dataclass(frozen=True, slots=True)
class TokenOptions:
    action: str
    state_dir: Path
    key: Path | None = None
    proxy: str | None = None
    ttl: timedelta = DEFAULT_TTL
    output: Path | None = None
    token_file: Path | None = None
    token_id: str | None = None


def run(args: argparse.Namespace) -> int:
    ttl = DEFAULT_TTL
    if args.action == "issue":
        try:
            ttl = parse_expiration(args.ttl)
        except ExpirationError as exc:
            raise UsageError(f"--ttl: {exc}") from None
    return execute(
        TokenOptions(
            action=args.action,
            state_dir=args.state_dir or default_state_dir(),
            key=args.key,
            proxy=getattr(args, "proxy", None),
            ttl=ttl,
            output=getattr(args, "output", None),
            token_file=getattr(args, "token_file", None),
            token_id=getattr(args, "token_id", None),
        )
    )


def execute(options: TokenOptions, *, now: datetime | None = None) -> int:
    moment = now or datetime.now(UTC)
    if options.action == "issue":
        proxy = _proxy(options.proxy)
        signer = (
            load_signer(options.key) if options.key else load_or_create_signer(options.state_dir)
        )
        token, claims = signer.issue(proxy, ttl=options.ttl, now=moment)
        if options.output:
            storage.write_atomic(options.output, (token + "\n").encode(), private=True)
            print(
                f"token {claims.token_id} for {proxy} (key {claims.key_id}, expires "
                f"{iso_utc(claims.expires_at)}) written to {options.output}",
                file=sys.stderr,
            )
        else:
            print(token)
        return Exit.OK
    if options.action == "inspect":
        claims = _parse(_read_token(options.token_file))
        sys.stdout.write(describe(claims, options, moment))
        return Exit.OK
    revocations = RevocationList.in_state_dir(options.state_dir)
    if options.proxy:
        proxy = _proxy(options.proxy)
        revocations.revoke_proxy(proxy, now=int(moment.timestamp()))
        print(f"every token issued for {proxy} until now is revoked", file=sys.stderr)
    elif options.token_id:
        far = int((moment + timedelta(days=3650)).timestamp())
        revocations.revoke_token(options.token_id, far, now=int(moment.timestamp()))
        print(f"token {options.token_id} is revoked", file=sys.stderr)
    else:
        claims = _parse(_read_token(options.token_file))
        revocations.revoke_token(claims.token_id, claims.expires_at, now=int(moment.timestamp()))
        print(f"token {claims.token_id} for {claims.proxy_id} is revoked", file=sys.stderr)
    return Exit.OK


def iso_utc(seconds: int) -> str:
    """Unix seconds as ISO 8601 UTC, e.g. ``2026-12-02T11:36:29Z``."""
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def describe(claims: TokenClaims, options: TokenOptions, now: datetime) -> str:
    """What ``token inspect`` prints: the claims, then what the state dir says of them (its
    key signed the token? revoked?). The signature itself is not checked."""
    left = claims.expires_at - int(now.timestamp())
    expiry = f"in {_rounded(left)}" if left > 0 else "EXPIRED"
    lines = [
        f"proxy:    {claims.proxy_id}",
        f"token id: {claims.token_id}",
        f"issued:   {iso_utc(claims.issued_at)}",
        f"expires:  {iso_utc(claims.expires_at)} ({expiry})",
        f"key:      {claims.key_id} ({_key_verdict(claims, options)})",
        f"revoked:  {_revocation_verdict(claims, options)}",
    ]
    return "\n".join(lines) + "\n"


def _rounded(seconds: int) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def _key_verdict(claims: TokenClaims, options: TokenOptions) -> str:
    if options.key is not None:
        where, path = f"--key {options.key}", options.key
    else:
        where = f"--state-dir {options.state_dir}"
        path = options.state_dir / "identity" / SIGNING_KEY_FILE
    if not path.exists():
        return f"{where} has no signing key: a server using it refuses this token"
    known = load_signer(path).key_id
    if known == claims.key_id:
        return f"the signing key of {where}"
    return f"NOT the key of {where}, which is {known}: a server using it refuses this token"


def _revocation_verdict(claims: TokenClaims, options: TokenOptions) -> str:
    path = options.state_dir / "identity" / REVOCATIONS_FILE
    if not path.exists():
        return f"no (--state-dir {options.state_dir} has no revocations)"
    if RevocationList(path).is_revoked(claims):
        return f"YES, by `reconciler token revoke` (--state-dir {options.state_dir})"
    return f"no (per --state-dir {options.state_dir})"


def _proxy(value: str | None) -> str:
    if not value or not _PROXY_ID.match(value):
        raise UsageError(
            f"--proxy {value!r} is not a node id; write MESH.NAME, e.g. default.web-01"
        )
    return value


def _read_token(path: Path | None) -> str:
    if path is None or str(path) == "-":
        return sys.stdin.read()
    try:
        return path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read token file {path}: {exc}") from None


def _parse(text: str) -> TokenClaims:
    try:
        return parse_unverified(text)[0]
    except TokenRejected as exc:
        raise UsageError(str(exc)) from None
