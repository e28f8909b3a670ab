"""``reconciler serve`` refuses what cannot be served at start: exit 2, one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli.main import main


def test_a_missing_path_in_a_plain_directory_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "mesh.yaml").write_text("type: Mesh\nname: default\n")
    args = ["serve", str(tmp_path), "--path", "nope", "--state-dir", str(tmp_path / "state")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        f"reconciler: error: --path nope: {tmp_path / 'nope'} does not exist "
        f"(give a directory inside {tmp_path})"
    ]
    assert "Traceback" not in err


def test_a_missing_directory_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", str(tmp_path / "absent")]) == 2
    assert "does not exist" in capsys.readouterr().err
