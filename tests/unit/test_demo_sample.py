"""The demo finds its sample mesh in a checkout, or is told where it is (an installed wheel)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reconciler.demo import run
from reconciler.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]


def test_a_checkout_uses_its_sample_repo() -> None:
    assert run.sample_repo(None) == ROOT / "sample-repo"


def test_repo_names_a_copy(tmp_path: Path) -> None:
    copy = tmp_path / "mesh"
    shutil.copytree(ROOT / "sample-repo", copy)
    assert run.sample_repo(copy) == copy


def test_without_a_sample_the_error_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(run, "CHECKOUT_SAMPLE", tmp_path / "site-packages" / "sample-repo")
    with pytest.raises(UsageError, match="no source checkout"):
        run.sample_repo(None)
    assert run.main(["--repo", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "policies/routes.yaml" in err
    assert "--repo PATH/TO/sample-repo" in err
