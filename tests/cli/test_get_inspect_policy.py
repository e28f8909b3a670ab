"""`reconciler get KIND [NAME]` and `reconciler inspect policy KIND NAME`, offline on a
directory or a commit, text and json."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from git_repo import Repo

from reconciler.cli.diff import DiffOptions, diff
from reconciler.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample-repo"
SINGLE_FILE_POLICIES = [
    ("MeshTimeout", "payments-fast-fail", "policies/timeouts.yaml"),
    ("MeshRetry", "frontend-retries", "policies/retries.yaml"),
    ("MeshHTTPRoute", "backend-canary", "policies/routes.yaml"),
    ("MeshCircuitBreaker", "payments-protection", "policies/circuit-breakers.yaml"),
    ("MeshTCPRoute", "backend-to-db", "policies/tcp-route.yaml"),
]


def _out(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> str:
    assert main(list(args)) == code
    return capsys.readouterr().out


def test_get_lists_a_kind_as_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    out = _out(capsys, "get", "dataplanes", "--dir", str(SAMPLE))
    lines = out.splitlines()
    assert lines[0].split() == ["MESH", "NAME", "FILE"]
    assert [line.split()[1] for line in lines[1:]] == [
        "backend-v1-1",
        "backend-v2-1",
        "db-1",
        "frontend-1",
        "inventory-1",
        "inventory-2",
        "payments-1",
        "payments-2",
    ]
    assert lines[1].endswith("sample-repo/dataplanes/backend.yaml:3")
    out = _out(capsys, "get", "MeshTimeout", "--dir", str(SAMPLE))
    assert out.splitlines()[1].split()[:3] == ["default", "payments-fast-fail", "Mesh"]
    assert _out(capsys, "get", "meshtimeouts", "--dir", str(SAMPLE), "--mesh", "other") == (
        "no MeshTimeout resources\n"
    )


def test_get_one_resource_as_yaml_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    text = _out(capsys, "get", "meshtimeout", "payments-fast-fail", "--dir", str(SAMPLE))
    [doc] = list(yaml.safe_load_all(text))
    source = yaml.safe_load((SAMPLE / "policies/timeouts.yaml").read_text())
    assert doc == source
    [as_json] = json.loads(
        _out(capsys, "get", "meshtimeout", "payments-fast-fail", "--dir", str(SAMPLE), "-o", "json")
    )
    assert as_json == source


def test_get_reports_unknown_kinds_and_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["get", "meshtimout", "--dir", str(SAMPLE)]) == 2
    assert "unknown kind 'meshtimout' (did you mean MeshTimeout?" in capsys.readouterr().err
    assert main(["get", "meshtimeout", "nope", "--dir", str(SAMPLE)]) == 2
    assert "no MeshTimeout 'nope' (MeshTimeout names: payments-fast-fail, status-page-fast)" in (
        capsys.readouterr().err
    )


def test_get_and_inspect_policy_read_a_commit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = Repo(tmp_path / "repo")
    shutil.copytree(SAMPLE, repo.path / "mesh")
    first = repo.commit("sample")
    repo.commit("no timeout", {"mesh/policies/timeouts.yaml": None})
    common = ["--repo", str(repo.path), "--path", "mesh"]
    assert "payments-fast-fail" not in _out(capsys, "get", "meshtimeouts", *common)
    out = _out(capsys, "get", "meshtimeouts", *common, "--rev", first)
    assert "mesh/policies/timeouts.yaml:4" in out
    out = _out(
        capsys, "inspect", "policy", "MeshTimeout", "payments-fast-fail", *common, "--rev", first
    )
    assert out.startswith(
        "MeshTimeout default/payments-fast-fail (mesh/policies/timeouts.yaml:4)\n"
        "selects 8 proxies; changes the Envoy configuration of 3\n"
    )
    assert main(["inspect", "policy", "MeshTimeout", "payments-fast-fail", *common]) == 2
    assert "no MeshTimeout 'payments-fast-fail'" in capsys.readouterr().err


def test_inspect_policy_text(capsys: pytest.CaptureFixture[str]) -> None:
    out = _out(capsys, "inspect", "policy", "meshtimeout", "payments-fast-fail", str(SAMPLE))
    frontend = out.split("\ndefault.frontend-1\n")[1].split("\n\n")[0]
    assert frontend == (
        "  outbound outbound:127.0.1.1:10002 -> payments (http) (merge order: "
        "mesh-timeout-all-default, payments-fast-fail)\n"
        '    connectionTimeout = "2s"\n'
        '    http.requestTimeout = "2s"\n'
        "  outbound outbound:127.0.1.1:10002 -> payments (http) cluster payments (merge order: "
        "mesh-timeout-all-default, payments-fast-fail)\n"
        '    connectionTimeout = "2s"\n'
        '    http.requestTimeout = "2s"\n'
        # the MeshService outbound of the same service (sample-repo/services/)
        "  outbound outbound:127.0.1.1:10004 -> default_payments___msvc_8080 (http) (merge "
        "order: mesh-timeout-all-default, payments-fast-fail)\n"
        '    connectionTimeout = "2s"\n'
        '    http.requestTimeout = "2s"\n'
        "  outbound outbound:127.0.1.1:10004 -> default_payments___msvc_8080 (http) cluster "
        "default_payments___msvc_8080 (merge order: mesh-timeout-all-default, "
        "payments-fast-fail)\n"
        '    connectionTimeout = "2s"\n'
        '    http.requestTimeout = "2s"\n'
        "  Envoy resources it changes:\n"
        "    configured  RDS outbound:default_payments___msvc_8080\n"
        '        virtual_hosts[0].routes[0].route.timeout: "15s" -> "2s"\n'
        "    configured  RDS outbound:payments\n"
        '        virtual_hosts[0].routes[0].route.timeout: "15s" -> "2s"\n'
        "    configured  CDS default_payments___msvc_8080\n"
        '        connect_timeout: "5s" -> "2s"\n'
        "    configured  CDS payments\n"
        '        connect_timeout: "5s" -> "2s"'
    )
    assert "\ndefault.db-1\n  selected, but no inbound or outbound" in out


@pytest.mark.parametrize(("kind", "name", "file"), SINGLE_FILE_POLICIES)
def test_inspect_policy_changes_what_removing_it_would_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, name: str, file: str
) -> None:
    """Cross-check with `diff`: the proxies (and Envoy resources) a policy changes are the
    ones a commit deleting it would change."""
    data = json.loads(_out(capsys, "inspect", "policy", kind, name, str(SAMPLE), "-o", "json"))
    assert data["policy"] == {"kind": kind, "name": name, "at": data["policy"]["at"]}
    assert data["proxies"], "the sample's policies all select some proxy"
    changed = {
        p["proxy"]: sorted((c["type"], c["name"]) for c in p["changes"])
        for p in data["proxies"]
        if p["changes"]
    }
    assert bool(changed) == (kind != "MeshTCPRoute")  # the TCP route equals the default one
    without = tmp_path / "without"
    shutil.copytree(SAMPLE, without)
    (without / file).unlink()
    text, _ = diff(DiffOptions(old=str(without), new=str(SAMPLE), format="json"))
    report = json.loads(text)
    expected = {
        p["node_id"]: sorted((r["type"], r["name"]) for r in p["resources"])
        for p in report["proxies"]
    }
    assert changed == expected


def test_inspect_policy_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", "policy", "Dataplane", "frontend-1", str(SAMPLE)]) == 2
    assert "Dataplane is not a policy" in capsys.readouterr().err
    assert main(["inspect", "policy", "MeshTimeout"]) == 2
    assert "needs KIND NAME" in capsys.readouterr().err
    assert main(["inspect", str(SAMPLE)]) == 2
    assert "give --proxy MESH.NAME, or `policy KIND NAME`" in capsys.readouterr().err


def test_get_notes_errors_of_the_revision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(SAMPLE, tmp_path / "repo")
    timeouts = tmp_path / "repo" / "policies" / "timeouts.yaml"
    timeouts.write_text(
        timeouts.read_text().replace("connectionTimeout: 2s", "connectionTimeout: x")
    )
    assert main(["get", "meshtimeouts", "--dir", str(tmp_path / "repo")]) == 0
    captured = capsys.readouterr()
    assert "payments-fast-fail" in captured.out
    assert captured.err == "note: this revision has 1 error; `reconciler validate` lists them\n"
