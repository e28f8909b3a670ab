"""action.yml end to end through the local runner harness, on a sample pull request."""

from __future__ import annotations

import json
from pathlib import Path

from action_harness import RunResult, run_action
from conftest import ROOT, add_broken_policy, git, longer_payments_timeout, make_pr
from fake_github_api import FakeGitHub


def run(pr, action_env: dict[str, str], **kw: object) -> RunResult:  # type: ignore[no-untyped-def]
    return run_action(
        ROOT,
        workspace=pr.workspace,
        runner_temp=pr.runner_temp,
        event=pr.event,
        env=action_env,
        **kw,  # type: ignore[arg-type]
    )


def test_clean_pr_shows_envoy_diff_and_passes(tmp_path: Path, action_env: dict[str, str]) -> None:
    pr = make_pr(tmp_path, longer_payments_timeout)
    # actions/checkout fetches one commit: the base is not there until the action fetches it
    assert git(pr.workspace, "rev-parse", "--is-shallow-repository") == "true"
    result = run(pr, action_env, inputs={"path": "mesh"})
    assert result.exit_code == 0, result.stderr
    assert result.ran == [
        "install",
        "base",
        "Fetch the base commit if the checkout lacks it",
        "check",
    ]
    assert result.outputs["errors"] == "0"
    assert result.outputs["changed-proxies"] == "3"
    assert result.of("error") == []
    assert len(result.of("warning")) == int(result.outputs["warnings"])
    summary = result.summary
    assert "## Mesh validation passed: 0 errors, " in summary and ", 3 proxies changed" in summary
    assert (
        # outbound:payments and outbound:default_payments___msvc_8080 (the MeshService port)
        "<details><summary><code>default.frontend-1</code>: configured, 2 resources</summary>"
        in summary
    )
    assert 'virtual_hosts[0].routes[0].route.timeout: "2s" -> "5s"' in summary
    diff = json.loads(Path(result.outputs["diff-file"]).read_text())
    assert (diff["base"], diff["head"]) == (pr.base_sha[:12], pr.head_sha[:12])
    assert diff["sources"][0]["file"] == "mesh/policies/timeouts.yaml"
    report = json.loads(Path(result.outputs["report-file"]).read_text())
    assert report["summary"]["errors"] == 0
    assert "Compiled the " in summary and " of 8 proxies this change can reach" in summary


def test_compile_all_gives_the_same_diff(tmp_path: Path, action_env: dict[str, str]) -> None:
    pr = make_pr(tmp_path, longer_payments_timeout)
    reached = run(pr, action_env, inputs={"path": "mesh"})
    reached_diff = Path(reached.outputs["diff-file"]).read_text()
    every = run(pr, action_env, inputs={"path": "mesh", "compile": "all"})
    assert every.exit_code == reached.exit_code == 0
    assert Path(every.outputs["diff-file"]).read_text() == reached_diff
    assert "Compiled the " not in every.summary


def test_bad_pr_annotates_fails_and_still_diffs(tmp_path: Path, action_env: dict[str, str]) -> None:
    def change(repo: Path) -> None:
        longer_payments_timeout(repo)
        add_broken_policy(repo)

    pr = make_pr(tmp_path, change)
    sarif = pr.workspace / "results.sarif"
    result = run(pr, action_env, inputs={"path": "mesh", "sarif-file": str(sarif)})
    assert result.exit_code == 1
    assert result.ran[-1] == "Apply fail-on"
    assert result.outputs["errors"] == "2"
    errors = result.of("error")
    by_file = [e for e in errors if e.properties.get("file") == "mesh/policies/broken.yaml"]
    assert len(by_file) == 2 and by_file[0].properties["line"] == "9"
    assert by_file[0].properties["title"] == "RC204"
    assert "MeshServce" in by_file[0].message
    assert errors[-1].message.startswith("2 errors, ")
    assert errors[-1].message.endswith(" warnings (fail-on: error)")
    # a diff alone never fails, but it is still computed for the valid resources
    assert result.outputs["changed-proxies"] == "3"
    assert "**Partial diff**" in result.summary and "MeshTimeout default/broken" in result.summary
    assert "### Diagnostics" in result.summary and "error\\[RC204\\]" in result.summary
    data = json.loads(sarif.read_text())
    assert {"RC204", "RC305"} <= {r["ruleId"] for r in data["runs"][0]["results"]}


def test_fail_on_never_passes_with_errors(tmp_path: Path, action_env: dict[str, str]) -> None:
    pr = make_pr(tmp_path, add_broken_policy)
    result = run(pr, action_env, inputs={"path": "mesh", "fail-on": "never"})
    assert result.exit_code == 0
    assert result.outputs["errors"] == "2"
    assert "Apply fail-on" not in result.ran


def test_annotations_prefer_lines_the_pr_changed(
    tmp_path: Path, action_env: dict[str, str]
) -> None:
    def old_error(repo: Path) -> None:  # an error that was already in the base commit
        text = (repo / "mesh/policies/timeouts.yaml").read_text()
        (repo / "mesh/policies/timeouts.yaml").write_text(
            text.replace("kind: Mesh\n", "kind: Meshh\n", 1)
        )

    pr = make_pr(tmp_path, add_broken_policy, base_extra=old_error)
    result = run(pr, action_env, inputs={"path": "mesh", "max-annotations": "1"})
    errors = [e for e in result.of("error") if "fail-on" not in e.message]
    assert len(errors) == 1
    assert errors[0].properties["file"] == "mesh/policies/broken.yaml"
    notice = result.of("notice")
    assert any(
        "more errors" in n.message and "are listed in the job summary" in n.message for n in notice
    )
    assert "timeouts.yaml" in result.summary  # every diagnostic is in the summary


def test_no_base_outside_a_pull_request(tmp_path: Path, action_env: dict[str, str]) -> None:
    pr = make_pr(tmp_path, longer_payments_timeout)
    result = run_action(
        ROOT,
        workspace=pr.workspace,
        runner_temp=pr.runner_temp,
        event={},
        env=action_env,
        inputs={"path": "mesh"},
    )
    assert result.exit_code == 0
    assert "Fetch the base commit if the checkout lacks it" not in result.ran
    assert result.outputs["diff-file"] == "" and result.outputs["changed-proxies"] == "0"
    assert "diff skipped" in result.summary


def test_base_ref_branch_input(tmp_path: Path, action_env: dict[str, str]) -> None:
    pr = make_pr(tmp_path, longer_payments_timeout)
    result = run(pr, action_env, inputs={"path": "mesh", "base-ref": "main"})
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.step_outputs["base"]["rev"] == "refs/remotes/origin/main"
    assert result.outputs["changed-proxies"] == "3"


def test_invalid_input_is_a_clear_error(tmp_path: Path, action_env: dict[str, str]) -> None:
    pr = make_pr(tmp_path, longer_payments_timeout)
    result = run(pr, action_env, inputs={"fail-on": "sometimes"})
    assert result.exit_code == 2
    assert "fail-on must be one of error, warning, never" in result.of("error")[0].message


def test_sticky_comment_created_then_updated(
    tmp_path: Path, action_env: dict[str, str], fake_github: FakeGitHub
) -> None:
    fake_github.add_comment(7, "an unrelated human comment")
    pr = make_pr(tmp_path, longer_payments_timeout)
    github = {"api_url": fake_github.url}
    env = {**action_env, "GITHUB_API_URL": fake_github.url}
    first = run(pr, env, inputs={"path": "mesh", "comment": "true"}, github=github)
    assert first.exit_code == 0, first.stdout + first.stderr
    assert "PR comment 1002 created" in first.stdout
    second = run(
        pr, env, inputs={"path": "mesh", "comment": "true", "fail-on": "never"}, github=github
    )
    assert "PR comment 1002 updated" in second.stdout
    comments = fake_github.comments[7]
    assert len(comments) == 2  # the human one and exactly one sticky
    body = comments[1]["body"]
    assert body.startswith("<!-- reconciler:pr-report -->")
    assert "default.frontend-1" in body and len(body) <= 65_536
    assert [m for m, _ in fake_github.requests] == ["GET", "POST", "GET", "PATCH"]


def test_fork_pr_skips_comment_with_notice(
    tmp_path: Path, action_env: dict[str, str], fake_github: FakeGitHub
) -> None:
    pr = make_pr(tmp_path, longer_payments_timeout, fork=True)
    env = {**action_env, "GITHUB_API_URL": fake_github.url}
    result = run(pr, env, inputs={"path": "mesh", "comment": "true"})
    assert result.exit_code == 0
    assert any("fork" in n.message for n in result.of("notice")), result.stdout
    assert fake_github.requests == []


def test_read_only_token_gets_a_notice_not_a_failure(
    tmp_path: Path, action_env: dict[str, str], fake_github: FakeGitHub
) -> None:
    fake_github.read_only = True
    pr = make_pr(tmp_path, longer_payments_timeout)
    env = {**action_env, "GITHUB_API_URL": fake_github.url}
    result = run(pr, env, inputs={"path": "mesh", "comment": "true"})
    assert result.exit_code == 0
    assert any("pull-requests: write" in n.message for n in result.of("notice")), result.stdout
    assert fake_github.comments.get(7, []) == []


def test_unfetchable_base_skips_the_diff_with_a_warning(
    tmp_path: Path, action_env: dict[str, str]
) -> None:
    pr = make_pr(tmp_path, longer_payments_timeout)
    pr.event["pull_request"]["base"]["sha"] = "0" * 40  # e.g. force-pushed away
    result = run(pr, action_env, inputs={"path": "mesh"})
    assert result.exit_code == 0, result.stdout + result.stderr
    assert any("cannot fetch the base commit" in w.message for w in result.of("warning"))
    assert result.outputs["diff-file"] == "" and "Diff skipped" in result.summary
