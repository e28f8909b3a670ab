"""Hostile URLs, refs and paths never reach git as options; allowed ones are normalized."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from reconciler.source.git import GitSource, read_commit_files
from reconciler.source.git_command import GitRunner, classify, git_env
from reconciler.source.git_errors import (
    GitSourceError,
    SourceReason,
    UnsafeSourceError,
    reason_code,
)
from reconciler.source.git_safety import (
    check_branch,
    check_subpath,
    normalize_url,
    redact,
)


@pytest.mark.parametrize(
    "url",
    [
        "--upload-pack=touch {pwned}",
        "-u touch {pwned}",
        "ext::sh -c touch% {pwned}",
        "fd::3",
        "http://127.0.0.1/repo.git",
        "ftp://127.0.0.1/repo.git",
        "git://127.0.0.1/repo.git",
        "https://127.0.0.1/repo.git\n--upload-pack=x",
        "",
        "nonsense with spaces",
    ],
)
def test_hostile_urls_are_refused(url: str, tmp_path: Path) -> None:
    pwned = tmp_path / "pwned"
    with pytest.raises(UnsafeSourceError) as err:
        GitSource(url.format(pwned=pwned), state_dir=tmp_path / "state")
    assert err.value.reason is SourceReason.REFUSED
    assert not err.value.retryable
    assert not pwned.exists()


@pytest.mark.parametrize(
    ("url", "expected", "local"),
    [
        ("https://git.example.test/mesh.git", "https://git.example.test/mesh.git", False),
        ("ssh://git@git.example.test/mesh.git", "ssh://git@git.example.test/mesh.git", False),
        ("git@git.example.test:team/mesh.git", "git@git.example.test:team/mesh.git", False),
        ("file:///srv/mesh.git", "file:///srv/mesh.git", True),
        ("/srv/mesh.git", "file:///srv/mesh.git", True),
    ],
)
def test_allowed_urls(url: str, expected: str, local: bool) -> None:
    assert normalize_url(url) == (expected, local)


@pytest.mark.parametrize(
    "branch",
    [
        "--upload-pack=x",
        "-b",
        "../x",
        "a..b",
        "main.lock",
        "@{-1}",
        "HEAD",
        "a b",
        "a\nb",
        "x~1",
        "",
    ],
)
def test_hostile_branches_are_refused(branch: str) -> None:
    with pytest.raises(UnsafeSourceError):
        check_branch(branch)


@pytest.mark.parametrize("branch", ["main", "release/2.14", "feature-x"])
def test_good_branches(branch: str) -> None:
    assert check_branch(branch) == branch


@pytest.mark.parametrize("path", ["../x", "a/../../x", "/etc", "-x", ".git", "a/.git/b", "a\\b"])
def test_hostile_paths_are_refused(path: str) -> None:
    with pytest.raises(UnsafeSourceError):
        check_subpath(path)


@pytest.mark.parametrize(
    ("path", "expected"), [(None, ""), ("", ""), (".", ""), ("mesh/", "mesh"), ("./a/b", "a/b")]
)
def test_paths_are_normalized(path: str | None, expected: str) -> None:
    assert check_subpath(path) == expected


def test_hostile_revisions_are_refused(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, env=git_env(allow_file=True))
    out = tmp_path / "out"
    for rev in ("--output=" + str(out), "-p"):
        with pytest.raises(UnsafeSourceError):
            read_commit_files(tmp_path, rev, None)
    with pytest.raises(UnsafeSourceError):
        read_commit_files(tmp_path, "HEAD", "../x")
    assert not out.exists()


def test_end_of_options_blocks_options_inside_git(tmp_path: Path) -> None:
    """Defence in depth: even if a check let an option through, git refuses it."""
    pwned = tmp_path / "pwned"
    runner = GitRunner(allow_file=True, timeout_s=10)
    with pytest.raises(GitSourceError) as err:
        runner.run(["ls-remote", "--end-of-options", f"--upload-pack=touch {pwned}", "x"])
    assert err.value.reason is SourceReason.REFUSED
    assert not pwned.exists()


def test_ext_transport_is_refused_by_git(tmp_path: Path) -> None:
    pwned = tmp_path / "pwned"
    runner = GitRunner(allow_file=True, timeout_s=10)
    with pytest.raises(GitSourceError) as err:
        runner.run(["ls-remote", "--end-of-options", f"ext::sh -c touch% {pwned}"])
    assert err.value.reason is SourceReason.REFUSED
    assert not pwned.exists()


def test_environment_has_no_prompts_and_no_user_config() -> None:
    env = git_env(allow_file=False)
    assert env["GIT_TERMINAL_PROMPT"] == "0"
    assert env["GIT_CONFIG_NOSYSTEM"] == "1"
    assert env["GIT_ALLOW_PROTOCOL"] == "https:ssh"
    assert env["LC_ALL"] == "C"
    assert git_env(allow_file=True)["GIT_ALLOW_PROTOCOL"] == "https:ssh:file"


def test_redaction() -> None:
    assert redact("fatal: https://bot:tok@host/x failed") == "fatal: https://***@host/x failed"
    assert redact("ssh://git@host/x") == "ssh://***@host/x"


@pytest.mark.parametrize(
    ("stderr", "reason", "code"),
    [
        ("fatal: Authentication failed for 'https://host/x'", SourceReason.AUTH, "RC653"),
        (
            "fatal: could not read Username for 'https://host': terminal prompts disabled",
            SourceReason.AUTH,
            "RC653",
        ),
        ("git@host: Permission denied (publickey).", SourceReason.AUTH, "RC653"),
        (
            "fatal: unable to access 'https://host/': Could not resolve host: host",
            SourceReason.UNREACHABLE,
            "RC652",
        ),
        ("fatal: '/x' does not appear to be a git repository", SourceReason.UNREACHABLE, "RC652"),
        (
            "error: object file .git/objects/ab/cd is empty\nfatal: loose object abcd is corrupt",
            SourceReason.CORRUPTED_CACHE,
            "RC656",
        ),
        ("fatal: transport 'ext' not allowed", SourceReason.REFUSED, "RC657"),
        ("fatal: something else", SourceReason.GIT_FAILED, "RC658"),
    ],
)
def test_classify(stderr: str, reason: SourceReason, code: str) -> None:
    """Each reason is shown in status with its code (``source.code``, explain-code)."""
    error = classify("fetch", stderr)
    assert error.reason is reason
    assert reason_code(error.reason) == code
