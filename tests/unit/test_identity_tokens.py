from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.cli.token import TokenOptions, execute
from reconciler.identity.revocation import RevocationList
from reconciler.identity.serving import make_verifier
from reconciler.identity.tokens import (
    TokenProblem,
    TokenRejected,
    load_or_create_signer,
    parse_unverified,
)
from reconciler.identity.verifier import TokenVerifier

NOW = datetime(2026, 3, 1, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def verifier(state: Path, clock: Clock) -> TokenVerifier:
    signer = load_or_create_signer(state)
    return TokenVerifier(
        [signer.public_key], revocations=RevocationList.in_state_dir(state), clock=clock
    )


def problem(verify: TokenVerifier, token: str | None, proxy: str) -> TokenProblem:
    with pytest.raises(TokenRejected) as info:
        verify.verify(token, proxy)
    if token:
        assert token.split(".")[-1] not in str(info.value), "a refusal never echoes the token"
    return info.value.problem


def test_signing_key_is_private_and_reused(tmp_path: Path) -> None:
    first = load_or_create_signer(tmp_path)
    second = load_or_create_signer(tmp_path)
    assert first.key_id == second.key_id
    key_file = tmp_path / "identity" / "token-signing.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "PRIVATE" not in repr(first)


def test_valid_token_proves_its_proxy(tmp_path: Path) -> None:
    clock = Clock(NOW)
    token, claims = load_or_create_signer(tmp_path).issue(
        "default.web-01", ttl=timedelta(hours=1), now=NOW
    )
    assert verifier(tmp_path, clock).verify(token, "default.web-01") == claims
    assert verifier(tmp_path, clock).verify(f"Bearer {token}\n", "default.web-01") == claims


def test_every_refusal_has_its_reason(tmp_path: Path) -> None:
    clock = Clock(NOW)
    verify = verifier(tmp_path, clock)
    token, _ = load_or_create_signer(tmp_path).issue(
        "default.web-01", ttl=timedelta(hours=1), now=NOW
    )
    assert problem(verify, None, "default.web-01") is TokenProblem.MISSING
    assert problem(verify, "", "default.web-01") is TokenProblem.MISSING
    assert problem(verify, "hello", "default.web-01") is TokenProblem.MALFORMED
    assert problem(verify, "rct1.%%%.abc", "default.web-01") is TokenProblem.MALFORMED
    head, body, sig = token.split(".")
    forged_body = parse_unverified(token)[1].split(b".")[1].decode()
    assert forged_body == body
    other, _ = load_or_create_signer(tmp_path).issue(
        "default.db-01", ttl=timedelta(hours=1), now=NOW
    )
    spliced = ".".join([head, other.split(".")[1], sig])
    assert problem(verify, spliced, "default.db-01") is TokenProblem.BAD_SIGNATURE
    assert problem(verify, token, "default.db-01") is TokenProblem.WRONG_PROXY
    foreign, _ = load_or_create_signer(tmp_path / "elsewhere").issue(
        "default.web-01", ttl=timedelta(hours=1), now=NOW
    )
    assert problem(verify, foreign, "default.web-01") is TokenProblem.UNKNOWN_KEY
    clock.now = NOW + timedelta(hours=1)
    assert problem(verify, token, "default.web-01") is TokenProblem.EXPIRED


def test_revocation_by_token_and_by_proxy(tmp_path: Path) -> None:
    clock = Clock(NOW)
    verify = verifier(tmp_path, clock)
    signer = load_or_create_signer(tmp_path)
    first, claims = signer.issue("default.web-01", ttl=timedelta(days=1), now=NOW)
    second, _ = signer.issue("default.web-01", ttl=timedelta(days=1), now=NOW)
    verify.verify(first, "default.web-01")
    # Another process (the CLI) writes the list; the running verifier sees it.
    RevocationList.in_state_dir(tmp_path).revoke_token(
        claims.token_id, claims.expires_at, now=int(NOW.timestamp())
    )
    assert problem(verify, first, "default.web-01") is TokenProblem.REVOKED
    assert verify.verify(second, "default.web-01")
    later = NOW + timedelta(minutes=5)
    RevocationList.in_state_dir(tmp_path).revoke_proxy("default.web-01", now=int(later.timestamp()))
    assert problem(verify, second, "default.web-01") is TokenProblem.REVOKED
    fresh, _ = signer.issue(
        "default.web-01", ttl=timedelta(days=1), now=later + timedelta(seconds=1)
    )
    assert verify.verify(fresh, "default.web-01")
    revoked_list = tmp_path / "identity" / "revoked-tokens.json"
    assert stat.S_IMODE(revoked_list.stat().st_mode) == 0o600


def test_cli_issue_inspect_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = str(tmp_path / "state")
    out = tmp_path / "web.token"
    assert (
        main(
            [
                "token",
                "issue",
                "--proxy",
                "default.web-01",
                "--ttl",
                "2h",
                "--state-dir",
                state,
                "-o",
                str(out),
            ]
        )
        == 0
    )
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    token = out.read_text().strip()
    clock = Clock(datetime.now(UTC))
    assert verifier(Path(state), clock).verify(token, "default.web-01")
    capsys.readouterr()
    assert main(["token", "inspect", str(out)]) == 0
    assert "proxy:    default.web-01" in capsys.readouterr().out
    assert main(["token", "revoke", "--token-file", str(out), "--state-dir", state]) == 0
    assert problem(verifier(Path(state), clock), token, "default.web-01") is TokenProblem.REVOKED
    assert main(["token", "issue", "--proxy", "nodot", "--state-dir", state]) == 2
    assert "MESH.NAME" in capsys.readouterr().err
    assert main(["token", "issue", "--proxy", "a.b", "--ttl", "forever", "--state-dir", state]) == 2


def test_inspect_shows_iso_times_key_and_revocation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state, other, token_file = tmp_path / "state", tmp_path / "other", tmp_path / "t.token"
    signer = load_or_create_signer(state)
    token, claims = signer.issue(
        "default.web-01", ttl=timedelta(days=30), now=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    )
    token_file.write_text(token + "\n")
    at = datetime(2026, 1, 12, 3, 4, 5, tzinfo=UTC)
    inspect = TokenOptions("inspect", state_dir=state, token_file=token_file)
    assert execute(inspect, now=at) == 0
    assert capsys.readouterr().out == (
        "proxy:    default.web-01\n"
        f"token id: {claims.token_id}\n"
        "issued:   2026-01-02T03:04:05Z\n"
        "expires:  2026-02-01T03:04:05Z (in 20 days)\n"
        f"key:      {signer.key_id} (the signing key of --state-dir {state})\n"
        f"revoked:  no (--state-dir {state} has no revocations)\n"
    )
    revoke = TokenOptions("revoke", state_dir=state, token_file=token_file)
    assert execute(revoke, now=at) == 0
    assert execute(inspect, now=at) == 0
    assert f"revoked:  YES, by `reconciler token revoke` (--state-dir {state})" in (
        capsys.readouterr().out
    )
    other_key = load_or_create_signer(other).key_id
    assert execute(TokenOptions("inspect", state_dir=other, token_file=token_file), now=at) == 0
    out = capsys.readouterr().out
    assert f"NOT the key of --state-dir {other}, which is {other_key}" in out
    assert "revoked:  no" in out


def test_a_token_of_another_state_dir_is_refused_naming_both_keys_and_the_flag(
    tmp_path: Path,
) -> None:
    server = make_verifier(tmp_path / "server", None)
    token, claims = load_or_create_signer(tmp_path / "default").issue(
        "default.web-01", ttl=timedelta(hours=1), now=datetime.now(UTC)
    )
    with pytest.raises(TokenRejected) as info:
        server.verify(token, "default.web-01")
    message = str(info.value)
    server_key = load_or_create_signer(tmp_path / "server").key_id
    assert f"signed by key {claims.key_id}; this server knows key {server_key}" in message
    assert f"--state-dir {tmp_path / 'server'}" in message
    assert "reconciler token issue --state-dir DIR" in message
    assert server.describe_keys() == (
        f"key {server_key} (the signing key of --state-dir {tmp_path / 'server'})"
    )
