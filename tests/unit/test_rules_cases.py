"""The validation case corpus: ``reconciler/kinds/<kind>/cases/{positive,negative}/``.

A new case is a file; no new test function. ``UPDATE_GOLDEN=1`` rewrites the expected
output of negative cases (review the diff: the expected output is the spec).
"""

from __future__ import annotations

import io
import os
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from case_corpus import FIXTURE, KINDS, LOADER, ROOT, case_files, relative

from reconciler.cli.main import main
from reconciler.kinds import CATALOG

UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def _cases(polarity: str) -> list[str]:
    return [relative(p) for p in case_files(polarity)]


def run_case(rel: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, list[str]]:
    """Diagnostic lines (without the summary) of the case validated with the fixture."""
    monkeypatch.chdir(ROOT)
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["validate", "--no-cache", FIXTURE, rel])
    lines = out.getvalue().splitlines()
    assert lines and lines[-1].startswith(("ok:", "failed:")), out.getvalue()
    return code, lines[:-1]


@pytest.mark.parametrize("rel", _cases("positive"))
def test_positive_case(rel: str, monkeypatch: pytest.MonkeyPatch) -> None:
    code, lines = run_case(rel, monkeypatch)
    allowed = tuple(f"{s}[" for s in ("warning", "info") if s in Path(rel).name)
    unexpected = [line for line in lines if not any(a in line for a in allowed)]
    assert unexpected == []
    assert code == 0


@pytest.mark.parametrize("rel", _cases("negative"))
def test_negative_case(rel: str, monkeypatch: pytest.MonkeyPatch) -> None:
    code, lines = run_case(rel, monkeypatch)
    expected_file = ROOT / rel.replace(".yaml", ".expected.txt")
    actual = "".join(f"{line}\n" for line in lines)
    if UPDATE:
        expected_file.write_text(actual)
    assert expected_file.exists(), f"missing {expected_file}; run with UPDATE_GOLDEN=1"
    assert actual == expected_file.read_text()
    assert lines, "a negative case must produce at least one diagnostic"
    assert not any(line.startswith(f"{FIXTURE}:") for line in lines), "the fixture must stay clean"
    if any("error[" in line for line in lines):
        assert code == 1
    assert_no_double_report(lines)


def assert_no_double_report(lines: list[str]) -> None:
    """The schema (RC2xx) and the rules (RC3xx) never both report the same field."""
    by_field: dict[str, set[str]] = {}
    for line in lines:
        where, _, rest = line.partition(": ")
        code = rest[rest.index("[") + 1 : rest.index("]")] if "[" in rest else ""
        field = rest.split("] ", 1)[1].split(": ", 1)[0] if "] " in rest else ""
        by_field.setdefault(f"{where} {field}", set()).add(code[:3])
    doubles = {k: v for k, v in by_field.items() if {"RC2", "RC3"} <= v}
    assert doubles == {}


def test_every_kind_has_enough_cases() -> None:
    for spec in CATALOG.values():
        cases = KINDS / spec.package / "cases"
        negatives = list((cases / "negative").glob("*.yaml"))
        positives = list((cases / "positive").glob("*.yaml"))
        assert len(negatives) >= 3, spec.name
        assert positives, spec.name
    assert len(list((LOADER / "negative").glob("*.yaml"))) >= 3


def test_fixture_is_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["validate", "--no-cache", FIXTURE])
    assert code == 0
    assert out.getvalue().startswith("ok:"), out.getvalue()
