"""The loader: files -> resources with positions; bad input becomes diagnostics, never raises."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import codes
from reconciler.load import SourceFile, load_file


def _load(data: bytes, path: str = "f.yaml") -> tuple[list[str], list[tuple[str, int | None]]]:
    loaded = load_file(SourceFile(path, data))
    return [r.name for r in loaded.resources], [(d.code, d.line) for d in loaded.diagnostics]


def test_multi_document_file_with_positions() -> None:
    text = b"type: Mesh\nname: a\n---\ntype: MeshTimeout\nname: t\nspec:\n  to:\n    - targetRef:\n        kind: Mesh\n"
    loaded = load_file(SourceFile("f.yaml", text))
    assert [r.key.name for r in loaded.resources] == ["a", "t"]
    timeout = loaded.resources[1]
    assert timeout.mesh == "default"
    assert (timeout.position.line, timeout.position.col) == (4, 1)
    kind = timeout.locate(("spec", "to", 0, "targetRef", "kind"))
    assert (kind.line, kind.col) == (9, 9)
    missing = timeout.locate(("spec", "to", 0, "default", "connectionTimeout"))
    assert (missing.line, missing.col) == (8, 7), "falls back to the deepest existing node"


def test_json_and_bom_are_accepted() -> None:
    assert _load(b'{"type": "Mesh", "name": "j"}', "m.json") == (["j"], [])
    assert _load(b"\xef\xbb\xbftype: Mesh\nname: a\n") == (["a"], [])


@pytest.mark.parametrize(
    ("data", "code", "line"),
    [
        (b"type: Mesh\nname: [broken\n", codes.YAML_SYNTAX, 3),
        (b"type: Mesh\nname: a\nname: b\n", codes.YAML_DUPLICATE_KEY, 3),
        (b"type: Mesh\nname: a\nmtls:\n\tenabledBackend: x\n", codes.YAML_TAB, 4),
        (b"type: Mesh\nname: \xff\n", codes.FILE_NOT_UTF8, 2),
        (b"- type: Mesh\n  name: a\n", codes.DOC_NOT_MAPPING, 1),
        (b"name: a\n", codes.TYPE_MISSING, 1),
        (b"type: MeshTimeOut\nname: a\n", codes.TYPE_UNKNOWN, 1),
        (b"type: Mesh\n", codes.NAME_MISSING, 1),
        (b"type: Mesh\nname: 5\n", codes.NAME_MISSING, 2),
        (("a: " + "[" * 100 + "]" * 100 + "\n").encode(), codes.YAML_DEPTH_LIMIT, 1),
        (b"type: Mesh\nname: !!binary aGVsbG8=\n", codes.YAML_UNSUPPORTED_VALUE, 2),
    ],
)
def test_bad_input_becomes_a_diagnostic(data: bytes, code: str, line: int) -> None:
    _, diags = _load(data)
    assert (code, line) in diags


def test_alias_bomb_is_refused() -> None:
    lines = ["a: &a [x,x,x,x,x,x,x,x,x,x]"]
    for prev, cur in zip("abcde", "bcdef", strict=True):
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 10) + "]")
    _, diags = _load(("\n".join(lines) + "\n").encode())
    assert [code for code, _ in diags] == [codes.YAML_ALIAS_LIMIT]


def test_empty_documents_warn_and_the_rest_loads() -> None:
    names, diags = _load(b"---\n---\ntype: Mesh\nname: a\n")
    assert names == ["a"]
    assert [code for code, _ in diags] == [codes.YAML_EMPTY_DOCUMENT]


def test_kubernetes_manifest_gets_a_hint() -> None:
    loaded = load_file(
        SourceFile("k.yaml", b"apiVersion: kuma.io/v1alpha1\nkind: MeshTimeout\nmetadata: {}\n")
    )
    [missing_type, _] = loaded.diagnostics
    assert missing_type.code == codes.TYPE_MISSING
    assert "Kubernetes manifest" in missing_type.message


def test_unknown_type_suggests_the_closest_kind() -> None:
    loaded = load_file(SourceFile("u.yaml", b"type: MeshTimeOut\nname: a\n"))
    assert "did you mean 'MeshTimeout'" in loaded.diagnostics[0].message


def test_a_broken_document_keeps_the_ones_before() -> None:
    names, diags = _load(b"type: Mesh\nname: a\n---\ntype: Mesh\nname: [\n")
    assert names == ["a"]
    assert [code for code, _ in diags] == [codes.YAML_SYNTAX]


def test_a_file_that_cannot_be_read_is_a_diagnostic(tmp_path: Path) -> None:
    """RC113: a file listed, then gone (or unreadable) when read: a diagnostic, no traceback."""
    from reconciler.load import read_files

    (tmp_path / "kept.yaml").write_text("type: Mesh\nname: default\n")
    files, diags = read_files(
        [("kept.yaml", tmp_path / "kept.yaml"), ("gone.yaml", tmp_path / "gone.yaml")]
    )
    assert [f.path for f in files] == ["kept.yaml"]
    assert [(d.code, d.file) for d in diags] == [("RC113", "gone.yaml")]
    assert "cannot read file" in diags[0].message
