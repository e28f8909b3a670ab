"""Per-file analysis kept across revisions by blob id: an unchanged file costs no parse."""

from __future__ import annotations

from pathlib import Path

import pytest

import reconciler.pipeline as pipeline
from reconciler.load import SourceFile
from reconciler.serve.analysis_cache import RevisionAnalyzer

MESH = b"type: Mesh\nname: default\n"


def timeout(value: str) -> bytes:
    return (
        "type: MeshTimeout\nname: t\nmesh: default\nspec:\n  targetRef:\n    kind: Mesh\n"
        f"  to:\n    - targetRef:\n        kind: Mesh\n      default:\n"
        f"        connectionTimeout: {value}\n"
    ).encode()


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = pipeline.load_file

    def spy(file: SourceFile) -> object:
        seen.append(file.path)
        return real(file)

    monkeypatch.setattr(pipeline, "load_file", spy)
    return seen


def test_only_changed_files_are_parsed_again(tmp_path: Path, loads: list[str]) -> None:
    analyzer = RevisionAnalyzer(tmp_path / "analysis")
    first = analyzer([SourceFile("mesh.yaml", MESH), SourceFile("t.yaml", timeout("1s"))], ())
    assert first.ok and sorted(loads) == ["mesh.yaml", "t.yaml"]
    loads.clear()

    second = analyzer([SourceFile("mesh.yaml", MESH), SourceFile("t.yaml", timeout("2s"))], ())
    assert second.ok and loads == ["t.yaml"]
    assert [
        r.data["spec"]["to"][0]["default"]["connectionTimeout"]
        for r in second.resources
        if r.kind == "MeshTimeout"
    ] == ["2s"]
    loads.clear()

    renamed = analyzer([SourceFile("a/mesh.yaml", MESH), SourceFile("t.yaml", timeout("2s"))], ())
    assert loads == []  # same blobs under a new path: no parse
    assert {r.file for r in renamed.resources} == {"a/mesh.yaml", "t.yaml"}


def test_persisted_entries_warm_a_restart(tmp_path: Path, loads: list[str]) -> None:
    files = [SourceFile("mesh.yaml", MESH), SourceFile("t.yaml", timeout("1s"))]
    analyzer = RevisionAnalyzer(tmp_path / "analysis")
    analyzer(files, ())
    analyzer.persist()
    assert (tmp_path / "analysis" / "analysis.index").exists()
    loads.clear()

    restarted = RevisionAnalyzer(tmp_path / "analysis")
    assert restarted(files, ()).ok
    assert loads == []


def test_errors_are_cached_too(tmp_path: Path, loads: list[str]) -> None:
    analyzer = RevisionAnalyzer(None)
    bad = [SourceFile("t.yaml", timeout("soon"))]
    first = analyzer(bad, ())
    second = analyzer(bad, ())
    assert not first.ok and not second.ok
    assert [d.code for d in first.diagnostics] == [d.code for d in second.diagnostics]
    assert loads == ["t.yaml"]
