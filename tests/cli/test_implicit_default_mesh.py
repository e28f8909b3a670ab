"""Kuma creates the mesh `default` itself: resources in it need no Mesh document."""

from __future__ import annotations

from pathlib import Path

from reconciler.cli.main import main

POLICY = """\
type: MeshTimeout
name: example
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: Mesh}
      default: {connectionTimeout: 3s}
"""


def test_a_docs_example_alone_validates_with_a_warning(tmp_path: Path, capsys: object) -> None:
    (tmp_path / "example.yaml").write_text(POLICY)
    assert main(["validate", "--no-cache", str(tmp_path)]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "warning[RC407]" in out and "0 errors" in out


def test_another_undefined_mesh_is_an_error(tmp_path: Path, capsys: object) -> None:
    (tmp_path / "example.yaml").write_text(POLICY.replace("name: example", "name: x\nmesh: prod"))
    assert main(["validate", "--no-cache", str(tmp_path)]) == 1
    assert "error[RC402]" in capsys.readouterr().out  # type: ignore[attr-defined]


def test_fail_on_warning_makes_the_implicit_mesh_fatal(tmp_path: Path) -> None:
    (tmp_path / "example.yaml").write_text(POLICY)
    assert main(["validate", "--no-cache", "--fail-on", "warning", str(tmp_path)]) == 1
