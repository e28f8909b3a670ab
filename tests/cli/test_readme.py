"""README.md agrees with the command line: every synopsis flag exists, with the choices and
the defaults the parser has; the documented exit codes and pins are the real ones."""

from __future__ import annotations

import argparse
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reconciler.cli.completion import INSTALL
from reconciler.cli.main import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
RECONCILER = Path(sys.executable).parent / "reconciler"
PORTS = ("--xds-address", "127.0.0.1:0", "--http-address", "127.0.0.1:0")


def _synopses() -> list[tuple[str, str]]:
    """``(command, its synopsis text)`` from the README's ``reconciler CMD ...`` blocks (a
    synopsis shows its optional parts in brackets; an example command line has none)."""
    lines: list[str] = []
    for line in README.splitlines():
        if line.startswith("reconciler ") and "[" in line:
            lines.append(line.removeprefix("reconciler "))
        elif lines and line.startswith("    ") and line.strip().startswith("["):
            lines[-1] += " " + line.strip()
    commands = set(_subparsers(build_parser()).choices)
    found: list[tuple[str, str]] = []
    for line in lines:
        for segment in re.split(r"\s+\|\s+", line):
            words = segment.split()
            if words and words[0] in commands:
                name = words[0]
                if name == "token" and len(words) > 1:
                    name = f"token {words[1]}"
                found.append((name, segment))
            elif found:
                found[-1] = (found[-1][0], found[-1][1] + " | " + segment)
    return found


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:  # type: ignore[type-arg]
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def _parser(command: str) -> argparse.ArgumentParser:
    words = command.split()
    parser = _subparsers(build_parser([words[0]])).choices[words[0]]
    for word in words[1:]:
        parser = _subparsers(parser).choices[word]
    return parser


def _options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {flag: action for action in parser._actions for flag in action.option_strings}


SYNOPSES = _synopses()


def test_the_readme_has_a_synopsis_of_each_command() -> None:
    names = {name for name, _ in SYNOPSES}
    assert {"validate", "render", "inspect", "diff", "serve", "status", "token issue"} <= names


@pytest.mark.parametrize(("command", "synopsis"), SYNOPSES, ids=[c for c, _ in SYNOPSES])
def test_synopsis_flags_choices_and_defaults(command: str, synopsis: str) -> None:
    options = _options(_parser(command))
    for flag, value in re.findall(
        r"(?<![\w-])(--?[a-z][\w-]*)(?: ([^\s\]|]+(?:\|[^\s\]]+)*))?", synopsis
    ):
        assert flag in options, f"README: `{command}` has no {flag}"
        action = options[flag]
        if not value or any(c.isupper() for c in value) or not value[0].isalnum():
            continue  # holds a metavar (PATH, MESH.NAME, FORMAT=URL): not a literal value
        if "|" in value and action.choices is not None:
            assert value.split("|") == list(action.choices), f"README: {command} {flag}"
        elif action.nargs is None and not isinstance(action, argparse._StoreConstAction):
            given = action.type(value) if callable(action.type) else value
            assert given == action.default, f"README: {command} {flag} {value} is not the default"


def test_exit_codes_of_a_server_are_documented() -> None:
    assert "`130` ^C" in README
    assert "`serve` is the exception: SIGINT or SIGTERM" in README and "exits `0`" in README


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_exits_0_when_told_to_stop(tmp_path: Path, sig: signal.Signals) -> None:
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(RECONCILER),
                "serve",
                str(ROOT / "sample-repo"),
                "--state-dir",
                str(tmp_path),
                *PORTS,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while "status on http://" not in log.read_text():
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
            process.send_signal(sig)
            assert process.wait(30) == 0, log.read_text()
            assert "shutting down" in log.read_text()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(5)


@pytest.mark.parametrize("path", ["docs/github-action.md", ".pre-commit-hooks.yaml"])
def test_pre_commit_examples_pin_a_commit_sha(path: str) -> None:
    revs = re.findall(r"rev: (\S+)", (ROOT / path).read_text())
    assert revs and all(rev == "COMMIT_SHA" or re.fullmatch(r"[0-9a-f]{40}", rev) for rev in revs)


def test_the_validate_example_is_what_validate_prints(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each line of the example (``...`` stands for lines left out) is printed, in order,
    and the last one (the summary) is the last one printed."""
    example = re.search(r"\$ reconciler validate sample-repo\n((?:.+\n)+)", README)
    assert example is not None
    monkeypatch.chdir(ROOT)
    assert main(["validate", "--no-cache", "sample-repo"]) == 0
    printed = capsys.readouterr().out.splitlines()
    expected = [line for line in example.group(1).splitlines() if line != "..."]
    assert expected[-1] == printed[-1]
    position = 0
    for line in expected:
        assert line in printed[position:], line
        position = printed.index(line, position) + 1


def test_the_completion_install_lines_are_the_commands_own() -> None:
    for shell, how in INSTALL.items():
        command = how.split("  (")[0]
        assert f"\n{command}\n" in README, shell


def test_the_inspect_policy_example_is_what_it_prints(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each line of the example (``...`` stands for lines left out) appears, in order."""
    block = README.split(
        "  $ reconciler inspect policy MeshTimeout payments-fast-fail sample-repo\n"
    )[1]
    example = [line[2:] for line in block.split("  ```")[0].splitlines()]
    monkeypatch.chdir(ROOT)
    assert main(["inspect", "policy", "MeshTimeout", "payments-fast-fail", "sample-repo"]) == 0
    printed = capsys.readouterr().out.splitlines()
    at = 0
    for line in example:
        if line.strip() == "...":
            continue
        assert line in printed[at:], line
        at = printed.index(line, at) + 1
