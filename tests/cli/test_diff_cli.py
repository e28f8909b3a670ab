"""``reconciler diff``: directories and commits, formats, exit codes 0/1/2, partial diffs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from git_repo import git

from reconciler.cli.inspect import InspectOptions, inspect
from reconciler.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
BROKEN = """\
type: MeshTimeout
name: broken
mesh: default
spec:
  targetRef:
    kind: Mesh
  to:
    - targetRef:
        kind: MeshServce
        name: payments
      default:
        connectionTimeout: 2s
"""


def slower_payments(root: Path) -> None:
    path = root / "policies/timeouts.yaml"
    path.write_text(path.read_text().replace("requestTimeout: 2s", "requestTimeout: 5s"))


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-file cache goes to tmp_path, not the user's cache directory."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


@pytest.fixture
def two_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(ROOT / "sample-repo", tmp_path / "old")
    shutil.copytree(ROOT / "sample-repo", tmp_path / "new")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["diff", *argv])
    return code, capsys.readouterr().out


def test_no_changes_exits_0_and_summarises_proxies(
    two_dirs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "old", "new")
    assert code == 0
    assert "8 proxies unchanged" in out
    assert out.splitlines()[-1].startswith("no changes:")


def test_route_timeout_change_text(two_dirs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    slower_payments(two_dirs / "new")
    code, out = run(capsys, "old", "new")
    assert code == 1
    assert (
        "  configured  MeshTimeout default/payments-fast-fail (new/policies/timeouts.yaml:4)" in out
    )
    assert 'spec.to[0].default.http.requestTimeout: "2s" -> "5s"' in out
    assert "Proxy default.frontend-1 (configured):" in out
    assert '      virtual_hosts[0].routes[0].route.timeout: "2s" -> "5s"' in out
    assert "Proxy default.payments-1" not in out  # unaffected proxies are only counted
    # diagnostics of proxies the incremental compile reused still name the new revision's files
    assert not any(line.startswith("old/") for line in out.splitlines())


def test_json_format(two_dirs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    slower_payments(two_dirs / "new")
    code, out = run(capsys, "old", "new", "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["version"] == 1 and data["partial"] is None
    changed = {p["node_id"] for p in data["proxies"]}
    assert "default.frontend-1" in changed
    resources = next(p for p in data["proxies"] if p["node_id"] == "default.frontend-1")
    # the legacy outbound and the one to the MeshService port (both target `payments`)
    by_name = {r["name"]: r for r in resources["resources"]}
    assert sorted(by_name) == ["outbound:default_payments___msvc_8080", "outbound:payments"]
    res = by_name["outbound:payments"]
    assert res["type"] == "RDS" and res["fields"] == [
        {
            "path": "virtual_hosts[0].routes[0].route.timeout",
            "op": "changed",
            "old": "2s",
            "new": "5s",
        }
    ]
    assert data["summary"]["proxies"]["unchanged"] == len(data["unchanged_proxies"])


def test_markdown_format_is_bounded(two_dirs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    slower_payments(two_dirs / "new")
    code, out = run(capsys, "old", "new", "--format", "markdown", "--max-size", "1000")
    assert code == 1
    assert len(out) <= 1000
    assert "| Proxies | 0 | 3 | 0 | 5 |" in out
    assert "truncated:" in out


def test_invalid_new_revision_prints_diagnostics_then_partial_diff(
    two_dirs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (two_dirs / "new/policies/broken.yaml").write_text(BROKEN)
    slower_payments(two_dirs / "new")
    code, out = run(capsys, "old", "new")
    assert code == 2
    first = out.splitlines()[0]
    assert first.startswith("new/policies/broken.yaml:9:9: error[RC204]")
    assert out.index("PARTIAL DIFF") > out.index("error[RC")
    assert "left out: MeshTimeout default/broken" in out
    # the valid part of the change is still shown
    assert 'virtual_hosts[0].routes[0].route.timeout: "2s" -> "5s"' in out


def test_usage_errors_exit_2(two_dirs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", "old"]) == 2
    assert main(["diff", "old", "missing-dir"]) == 2
    assert main(["diff", "--base", "HEAD~1"]) == 2
    assert "need --repo" in capsys.readouterr().err


def test_repo_commits_without_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    shutil.copytree(ROOT / "sample-repo", repo / "mesh")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    slower_payments(repo / "mesh")
    git(repo, "commit", "-q", "-am", "head")
    (repo / "mesh/policies/timeouts.yaml").unlink()  # the work tree is not what is read
    monkeypatch.chdir(tmp_path)
    code, out = run(
        capsys,
        "--repo",
        "repo",
        "--base",
        "HEAD~1",
        "--head",
        "HEAD",
        "--path",
        "mesh",
        "--format",
        "json",
    )
    data = json.loads(out)
    assert code == 1
    assert data["base"] == git(repo, "rev-parse", "HEAD~1")[:12]
    (source,) = data["sources"]
    assert source["file"] == "mesh/policies/timeouts.yaml" and source["action"] == "configured"
    assert len(data["proxies"]) == 3
    code, out = run(capsys, "--repo", "repo", "--base", "HEAD", "--path", "mesh")
    assert code == 0


def test_repo_hostile_rev_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    assert main(["diff", "--repo", str(repo), "--base", "--output=/tmp/x"]) == 2


def test_a_resource_a_mesh_proxy_patch_edits_names_the_modification(
    two_dirs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sample's patch added on the new side: the inbound listener it changes is listed
    with the modification and its file:line, in text and in JSON."""
    (two_dirs / "old/policies/proxy-patch.yaml").unlink()
    code, out = run(capsys, "old", "new")
    assert code == 1
    edited = (
        "edited by MeshProxyPatch frontend-served-by spec.default.appendModifications[0]"
        ".httpFilter (new/policies/proxy-patch.yaml:17)"
    )
    section = out.split("Proxy default.frontend-1 (configured):\n")[1].splitlines()
    assert section[0].split() == ["configured", "LDS", "inbound:127.0.1.1:8080"]
    assert section[1].strip() == edited
    _, raw = run(capsys, "-o", "json", "old", "new")
    [proxy] = json.loads(raw)["proxies"]
    assert [r["edited_by"] for r in proxy["resources"]] == [[edited.removeprefix("edited by ")]]


def test_inspect_lists_the_sample_patch_with_its_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    text, code = inspect(InspectOptions(("sample-repo",), "default.frontend-1"))
    assert code == 0
    section = text.split("MeshProxyPatch modifications (applied last, in this order):\n")[1]
    assert section.splitlines()[0] == (
        "  LDS inbound:127.0.1.1:8080 changed by frontend-served-by "
        "spec.default.appendModifications[0].httpFilter at sample-repo/policies/proxy-patch.yaml:17"
    )
