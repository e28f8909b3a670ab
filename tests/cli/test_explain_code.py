"""``reconciler explain-code`` for every code, and ``docs/codes.md`` kept in sync.

``docs/codes.md`` is generated from the code table (``reconciler/codes.py``) and the
validation case corpus (the example of a code is the first negative case whose expected
output shows it). ``UPDATE_GOLDEN=1`` rewrites it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from case_corpus import FIXTURE, expected_files, relative

from reconciler.cli.main import main
from reconciler.codes import CODES

ROOT = Path(__file__).resolve().parent.parent.parent
DOC = ROOT / "docs" / "codes.md"


@pytest.mark.parametrize("code", sorted(CODES))
def test_explain_every_code(code: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain-code", code.lower()]) == 0
    out = capsys.readouterr().out
    info = CODES[code]
    assert out.startswith(f"{code} ({info.severity}): {info.title}\n")
    assert info.explanation in out
    assert info.severity in ("error", "warning", "info")


def test_unknown_code_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain-code", "RC999"]) == 2
    assert "unknown code" in capsys.readouterr().out


def test_list_names_every_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain-code", "--list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == sorted(CODES)


def _examples() -> dict[str, tuple[Path, str]]:
    found: dict[str, tuple[Path, str]] = {}
    for expected in expected_files():
        for line in expected.read_text().splitlines():
            code = line.split("[", 1)[1].split("]", 1)[0]
            found.setdefault(
                code, (expected.with_name(expected.name.replace(".expected.txt", ".yaml")), line)
            )
    return found


def render_codes_doc() -> str:
    examples = _examples()
    out = [
        "# Diagnostic codes",
        "",
        "Every diagnostic the reconciler prints carries one of these codes. "
        "`reconciler explain-code CODE` prints the same explanation. Ranges: RC1xx files and "
        "YAML, RC2xx schema, RC3xx semantic rules of one resource, RC4xx cross-resource "
        "checks, RC5xx compile, RC6xx serve and source.",
        "",
        "<!-- Generated from reconciler/codes.py and the validation cases by "
        "tests/cli/test_explain_code.py; regenerate with UPDATE_GOLDEN=1. -->",
        "",
    ]
    for code in sorted(CODES):
        info = CODES[code]
        out += [
            f"## {code}: {info.title}",
            "",
            f"Severity: **{info.severity}**",
            "",
            info.explanation,
            "",
        ]
        example = examples.get(code)
        if example is not None:
            case, line = example
            out += [
                f"Example (`{relative(case)}`, validated with `{FIXTURE}`):",
                "",
                "```yaml",
                case.read_text(errors="replace").rstrip("\n"),
                "```",
                "",
                "```text",
                line,
                "```",
                "",
            ]
    return "\n".join(out).rstrip("\n") + "\n"


def test_codes_doc_is_up_to_date() -> None:
    text = render_codes_doc()
    if os.environ.get("UPDATE_GOLDEN") == "1":
        DOC.parent.mkdir(parents=True, exist_ok=True)
        DOC.write_text(text)
    assert DOC.exists(), "docs/codes.md is missing; run with UPDATE_GOLDEN=1"
    assert DOC.read_text() == text, "docs/codes.md is stale; run with UPDATE_GOLDEN=1"
