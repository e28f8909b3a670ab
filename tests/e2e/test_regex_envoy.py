"""The RE2 check agrees with the real Envoy: what it flags Envoy refuses, what it passes loads."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from reconciler.compile.bootstrap import static_bootstrap
from reconciler.compile.render_dict import message_dict
from reconciler.demo.processes import envoy_binary
from reconciler.pipeline import analyze_paths, compile_analysis
from reconciler.validate.regexes import regex_problem

SAMPLE = Path(__file__).resolve().parents[2] / "sample-repo"
CATCH_ALL = "            - path:\n                type: PathPrefix\n                value: /\n"
ENVOY_VALIDATE = ["--mode", "validate", "-l", "error", "--disable-hot-restart", "-c"]
PATTERNS = [
    "/api/(unclosed",
    "/(?=v1)",
    "/(" + "|".join(f"s{i}[a-z]{{1,20}}" for i in range(10)) + ")",
    "/v[0-9]+/users/[^/]+",
    "/(" + "|".join(f"s{i}" for i in range(8)) + ")",
]


@pytest.mark.e2e
@pytest.mark.parametrize("pattern", PATTERNS)
def test_envoy_refuses_exactly_what_the_check_flags(pattern: str, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE, repo)
    routes = repo / "policies" / "routes.yaml"
    replaced = f"            - path:\n                type: RegularExpression\n                value: '{pattern}'\n"
    routes.write_text(routes.read_text().replace(CATCH_ALL, replaced, 1))
    analysis = analyze_paths([repo])
    flagged = [d for d in analysis.diagnostics if d.code == "RC315"]
    assert bool(flagged) == (regex_problem(pattern) is not None)
    config = compile_analysis(analysis).configs["default.frontend-1"]
    path = tmp_path / "bootstrap.json"
    path.write_text(json.dumps(message_dict(static_bootstrap(config))))
    done = subprocess.run(
        [envoy_binary(), *ENVOY_VALIDATE, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode != 0) == bool(flagged), done.stdout + done.stderr
