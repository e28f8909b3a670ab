"""``reconciler validate``: every output format and every exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from case_corpus import expected_files

from reconciler.cli.main import main
from reconciler.codes import CODES

CLEAN = """\
type: Mesh
name: default
---
type: Dataplane
mesh: default
name: web-01
networking:
  address: 10.0.0.1
  inbound:
    - port: 8080
      tags:
        kuma.io/service: web
"""
BAD_TIMEOUT = """\
type: MeshTimeout
name: t
mesh: default
spec:
  targetRef:
    kind: Mesh
  to:
    - targetRef:
        kind: Mesh
      default:
        connectionTimeout: -1s
"""
NO_PROXY = """\
type: MeshTimeout
name: only-warning
mesh: default
spec:
  targetRef:
    kind: MeshService
    name: web
  to:
    - targetRef:
        kind: Mesh
      default:
        connectionTimeout: 1s
"""


def _repo(tmp_path: Path, *docs: str) -> Path:
    (tmp_path / "mesh.yaml").write_text(CLEAN)
    for i, doc in enumerate(docs):
        (tmp_path / f"doc{i}.yaml").write_text(doc)
    return tmp_path


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["validate", "--no-cache", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_clean_repository_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(_repo(tmp_path)))
    assert code == 0
    assert out == "ok: 1 file, 2 resources, 0 errors, 0 warnings\n"


def test_error_exits_1_with_gcc_style_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(_repo(tmp_path, BAD_TIMEOUT))
    code, out, _ = _run(capsys, ".")
    assert code == 1
    assert out.splitlines() == [
        "doc0.yaml:11:9: error[RC305] spec.to[0].default.connectionTimeout: must be greater "
        "than zero when defined (MeshTimeout default/t)",
        "failed: 2 files, 3 resources, 1 error, 0 warnings",
    ]


@pytest.mark.parametrize(("fail_on", "expected"), [("error", 0), ("warning", 1), ("never", 0)])
def test_fail_on_thresholds_for_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fail_on: str, expected: int
) -> None:
    repo = _repo(tmp_path, NO_PROXY.replace("name: web\n", "name: nothing\n"))
    code, out, _ = _run(capsys, "--fail-on", fail_on, str(repo))
    assert "warning[RC405]" in out
    assert code == expected


def test_fail_on_never_ignores_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--fail-on", "never", str(_repo(tmp_path, BAD_TIMEOUT)))
    assert code == 0
    assert "error[RC305]" in out


def test_missing_path_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, str(tmp_path / "nope"))
    assert code == 2
    assert out == ""
    assert "path not found" in err


def test_bad_option_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "--format", "xml", ".")
    assert code == 2
    assert "invalid choice" in err


def test_json_format_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--format", "json", str(_repo(tmp_path, BAD_TIMEOUT)))
    assert code == 1
    data = json.loads(out)
    assert set(data) == {"diagnostics", "summary"}
    assert data["summary"] == {"files": 2, "resources": 3, "errors": 1, "warnings": 0}
    [diag] = data["diagnostics"]
    assert set(diag) == {"code", "severity", "message", "file", "line", "col", "field", "resource"}
    assert diag["code"] == "RC305"
    assert diag["severity"] == "error"
    assert diag["file"].endswith("doc0.yaml")
    assert (diag["line"], diag["col"]) == (11, 9)
    assert diag["field"] == "spec.to[0].default.connectionTimeout"
    assert diag["resource"] == {"type": "MeshTimeout", "mesh": "default", "name": "t"}


def test_github_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(_repo(tmp_path, BAD_TIMEOUT, NO_PROXY.replace("web\n", "none\n")))
    code, out, _ = _run(capsys, "--format", "github", ".")
    lines = out.splitlines()
    assert code == 1
    assert lines[0] == (
        "::error file=doc0.yaml,line=11,col=9,title=RC305::spec.to[0].default.connectionTimeout"
        ": must be greater than zero when defined (MeshTimeout default/t)"
    )
    assert any(line.startswith("::warning file=doc1.yaml,") for line in lines)
    assert lines[-1].startswith("failed:")


def test_sarif_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = _repo(tmp_path, BAD_TIMEOUT, NO_PROXY.replace("web\n", "none\n"))
    code, out, _ = _run(capsys, "--format", "sarif", str(repo))
    assert code == 1
    sarif = json.loads(out)
    assert sarif["version"] == "2.1.0"
    assert sarif["$schema"].endswith("sarif-2.1.0.json")
    [run] = sarif["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "reconciler"
    rule_ids = [r["id"] for r in driver["rules"]]
    assert rule_ids == sorted(set(rule_ids)) == ["RC305", "RC405"]
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] == CODES[rule["id"]].title
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels == {"RC305": "error", "RC405": "warning"}
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1


def test_internal_error_exits_3_with_please_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from reconciler.validate import kind_rules

    def broken(resource: object) -> list[object]:
        raise RuntimeError("rule exploded")

    monkeypatch.setattr(kind_rules, "check_rules", broken)
    code, _out, err = _run(capsys, str(_repo(tmp_path)))
    assert code == 3
    assert "please report" in err
    assert "rule exploded" in err
    assert "Traceback" not in err

    code = main(["validate", "--no-cache", "--debug", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 3
    assert "Traceback" in err
    assert "rule exploded" in err


def test_every_diagnostic_of_the_corpus_uses_a_documented_code() -> None:
    for expected in expected_files():
        for line in expected.read_text().splitlines():
            code = line.split("[", 1)[1].split("]", 1)[0]
            assert code in CODES, (expected, line)


def test_no_input_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("not a resource\n")
    (tmp_path / ".hidden.yaml").write_text(CLEAN)
    assert main(["validate", "--no-cache", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"no *.yaml, *.yml or *.json file in {tmp_path}" in err and "--allow-empty" in err
    assert main(["validate", "--no-cache", "--allow-empty", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "ok: 0 files, 0 resources, 0 errors, 0 warnings\n"
