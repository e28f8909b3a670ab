"""What a serious CLI does: colour only for a terminal (NO_COLOR / FORCE_COLOR honoured),
shell completion generated from the parser, ``-o`` for ``--format``, ``validate -``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.cli.colour import paint, wants_colour
from reconciler.cli.completion import script
from reconciler.cli.main import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = str(ROOT / "sample-repo")
RECONCILER = Path(sys.executable).parent / "reconciler"
ESC = "\x1b["
BAD = """\
type: Mesh
name: default
---
type: MeshTimeout
name: t
mesh: default
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: Mesh}
      default: {connectionTimeout: -1s}
"""


@pytest.fixture
def plain_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")


def test_a_terminal_gets_colour_a_pipe_does_not() -> None:
    main_fd, tty_fd = os.openpty()
    try:
        with open(tty_fd, "w", closefd=False) as tty, open(os.devnull, "w") as pipe:
            assert wants_colour(tty, {"TERM": "xterm"})
            assert not wants_colour(tty, {"TERM": "dumb"})
            assert not wants_colour(tty, {"TERM": "xterm", "NO_COLOR": "1"})
            assert not wants_colour(pipe, {})
            assert wants_colour(pipe, {"FORCE_COLOR": "1"})
            assert not wants_colour(pipe, {"FORCE_COLOR": "0"})
            assert not wants_colour(pipe, {"FORCE_COLOR": "1", "NO_COLOR": "1"})
    finally:
        os.close(main_fd)
        os.close(tty_fd)


def test_paint_colours_severities_actions_and_the_summary_only() -> None:
    text = (
        "a.yaml:1:2: error[RC305] x: y\nb.yaml:3:4: warning[RC405] z\n"
        "  created     CDS web\n  deleted     LDS old\nfailed: 1 file\n"
    )
    painted = paint(text, True)
    assert painted.count(ESC) == 2 * 5
    assert "\x1b[1;31merror\x1b[0m[RC305]" in painted
    assert "\x1b[31mdeleted\x1b[0m" in painted
    assert paint(text, False) == text
    assert paint("message: an error[RC305] in prose\n", True).count(ESC) == 0


def test_validate_colours_only_when_asked(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    plain_env: None,
) -> None:
    (tmp_path / "bad.yaml").write_text(BAD)
    assert main(["validate", "--no-cache", str(tmp_path)]) == 1
    assert ESC not in capsys.readouterr().out  # captured output is not a terminal
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert main(["validate", "--no-cache", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "\x1b[1;31merror\x1b[0m[RC305]" in out and "\x1b[1;31mfailed\x1b[0m:" in out
    assert main(["validate", "--no-cache", "-o", "json", str(tmp_path)]) == 1
    assert ESC not in capsys.readouterr().out  # machine formats never
    monkeypatch.setenv("NO_COLOR", "1")
    assert main(["validate", "--no-cache", str(tmp_path)]) == 1
    assert ESC not in capsys.readouterr().out


def test_diff_colours_its_actions(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    plain_env: None,
) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    (old / "mesh.yaml").write_text("type: Mesh\nname: default\n")
    (new / "mesh.yaml").write_text("type: Mesh\nname: default\n---\ntype: Mesh\nname: other\n")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert main(["diff", "--no-cache", str(old), str(new)]) == 1
    assert "\x1b[32mcreated\x1b[0m" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "start"),
    [
        (["validate", "--no-cache", SAMPLE], "{"),
        (["inspect", SAMPLE, "--proxy", "default.frontend-1"], "{"),
        (["render", SAMPLE, "--proxy", "default.frontend-1"], "["),
    ],
)
def test_o_is_an_alias_of_format(
    args: list[str], start: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*args, "-o", "json"]) == 0
    assert capsys.readouterr().out.startswith(start)
    assert main([*args, "--format", "json"]) == 0


def test_diff_accepts_o(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", "--no-cache", SAMPLE, SAMPLE, "-o", "json"]) == 0
    assert capsys.readouterr().out.startswith("{")


def test_validate_reads_one_document_stream_from_stdin() -> None:
    done = subprocess.run(
        [str(RECONCILER), "validate", "-"],
        input=BAD,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "<stdin>:11:17: error[RC305]" in done.stdout
    assert done.stdout.endswith("failed: 1 file, 2 resources, 1 error, 1 warning\n")
    mixed = subprocess.run(
        [str(RECONCILER), "validate", "-", SAMPLE],
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert mixed.returncode == 2 and "cannot be combined" in mixed.stderr


def test_bash_completion_completes_commands_flags_and_choices() -> None:
    probe = """
source /dev/stdin <<< "$SCRIPT"
complete_words() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _shtab_reconciler; echo "${COMPREPLY[*]}"; }
complete_words reconciler val
complete_words reconciler validate --allow
complete_words reconciler validate -o ""
complete_words reconciler completion ""
"""
    done = subprocess.run(
        ["bash", "-c", probe],
        env={**os.environ, "SCRIPT": script(build_parser(every=True), "bash")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "validate",
        "--allow-empty",
        "text json github sarif",
        "bash zsh fish",
    ]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_know_every_command(shell: str) -> None:
    text = script(build_parser(every=True), shell)
    for command in ("validate", "render", "inspect", "diff", "serve", "completion"):
        assert command in text
    assert "allow-empty" in text


def test_completion_is_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", "bash"]) == 0
    assert "_shtab_reconciler" in capsys.readouterr().out
    assert main(["completion", "tcsh"]) == 2
