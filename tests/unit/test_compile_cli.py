"""``reconciler render`` and ``reconciler inspect`` end to end through ``main()``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from reconciler.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = str(ROOT / "sample-repo")


def test_render_yaml_groups_resources_per_proxy(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", SAMPLE, "--proxy", "default.frontend-1"]) == 0
    docs = list(yaml.safe_load_all(capsys.readouterr().out))
    assert len(docs) == 1
    doc = docs[0]
    assert list(doc) == [
        "proxy",
        "listeners",
        "routes",
        "clusters",
        "endpoints",
        "secrets",
        "notes",
    ]
    assert doc["proxy"] == "default.frontend-1"
    assert "route_config_name" in json.dumps(doc["listeners"])  # proto field names


def test_render_every_proxy_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", SAMPLE, "--format", "json"]) == 0
    proxies = [d["proxy"] for d in json.loads(capsys.readouterr().out)]
    assert "default.frontend-1" in proxies and proxies == sorted(proxies)


def test_render_bootstrap_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", SAMPLE, "--format", "bootstrap", "--out", str(tmp_path)]) == 0
    files = sorted(p.name for p in tmp_path.iterdir())
    assert "default.frontend-1.bootstrap.json" in files
    bootstrap = json.loads((tmp_path / "default.frontend-1.bootstrap.json").read_text())
    assert bootstrap["node"]["id"] == "default.frontend-1"
    clusters = bootstrap["static_resources"]["clusters"]
    assert all(c.get("type") != "EDS" for c in clusters)
    assert "wrote" in capsys.readouterr().out


def test_render_unknown_proxy_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", SAMPLE, "--proxy", "default.nope"]) == 2
    assert "default.frontend-1" in capsys.readouterr().err


def test_render_invalid_repository_prints_diagnostics(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.yaml").write_text("type: MeshTimeout\nname: t\nspec:\n  targetRf: {}\n")
    assert main(["render", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "bad.yaml:4:3: error[RC201]" in captured.err


def test_inspect_explains_the_two_second_timeout(capsys: pytest.CaptureFixture[str]) -> None:
    """'Why does this proxy have a 2 s timeout?': the policy and file:line that set it."""
    assert main(["inspect", SAMPLE, "--proxy", "default.frontend-1"]) == 0
    out = capsys.readouterr().out
    section = out[out.index("-> payments (http)") :]
    line = next(row for row in section.splitlines() if "http.requestTimeout" in row)
    assert '"2s"' in line and "payments-fast-fail" in line
    assert "sample-repo/policies/timeouts.yaml:" in line


def test_inspect_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", SAMPLE, "--proxy", "default.frontend-1", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    payments = next(o for o in data["outbounds"] if o["service"] == "payments")
    timeout = next(p for p in payments["policies"] if p["kind"] == "MeshTimeout")
    assert [p["name"] for p in timeout["policies"]] == [
        "mesh-timeout-all-default",
        "payments-fast-fail",
    ]
    value = next(v for v in timeout["values"] if v["field"] == "http.requestTimeout")
    assert value["value"] == "2s" and value["from"][0]["policy"] == "payments-fast-fail"
