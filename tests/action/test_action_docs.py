"""docs/github-action.md: its example workflow uses only inputs action.yml defines, with the
permissions it needs, and matches the dogfooding workflow that actionlint checks."""

from __future__ import annotations

import re

import yaml
from conftest import ROOT

DOC = (ROOT / "docs/github-action.md").read_text()
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
DOGFOOD = (ROOT / ".github/workflows/mesh-check.yml").read_text()


def example() -> str:
    return re.findall(r"```yaml\n(.*?)```", DOC, re.S)[0]


def test_example_workflow_inputs_and_permissions() -> None:
    workflow = yaml.safe_load(example())
    job = workflow["jobs"]["mesh-check"]
    assert workflow["permissions"] == {}
    assert job["permissions"] == {
        "contents": "read",
        "pull-requests": "write",
        "security-events": "write",
    }
    (step,) = [s for s in job["steps"] if s.get("id") == "mesh"]
    assert set(step["with"]) <= set(ACTION["inputs"])
    assert re.fullmatch(r"OWNER/reconciler@COMMIT_SHA", step["uses"])


def test_example_matches_the_linted_workflow() -> None:
    def normalise(text: str) -> list[str]:
        lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
        out = []
        for ln in lines:
            ln = re.sub(r"uses: (\./|OWNER/reconciler@COMMIT_SHA) #.*", "uses: ACTION", ln)
            ln = ln.replace("path: sample-repo", "path: mesh")
            out.append(ln)
        return out

    doc_lines = [ln for ln in normalise(example()) if "paths:" not in ln and '"mesh/**"' not in ln]
    assert doc_lines == normalise(DOGFOOD)


def test_every_input_and_output_is_documented() -> None:
    for name in [*ACTION["inputs"], *ACTION["outputs"]]:
        assert f"| `{name}` |" in DOC, name
