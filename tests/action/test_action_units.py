"""The action's Python logic, piece by piece (the harness tests cover the wiring)."""

from __future__ import annotations

from pathlib import Path

import pytest
from action_expressions import condition, evaluate, substitute
from action_harness import parse_commands, parse_env_file

from reconciler.action.annotate import select
from reconciler.action.changed_lines import changed_lines, on_changed_line
from reconciler.action.event import BaseCommit, pull_request, resolve_base
from reconciler.action.inputs import ActionInputs, read_inputs
from reconciler.action.runner_files import SUMMARY_LIMIT_BYTES, set_output
from reconciler.action.summary import COMMENT_MARKER, comment, summary
from reconciler.diagnostics import Diagnostic, Severity
from reconciler.diff import Action, ChangeSet, FieldChange, ProxyChange, ResourceChange
from reconciler.errors import UsageError
from reconciler.load import SourceFile
from reconciler.report.diagnostics import github_command
from reconciler.resource_types import TypeUrl

SHA = "a" * 40


def diag(
    file: str, line: int, severity: Severity = Severity.ERROR, code: str = "RC204"
) -> Diagnostic:
    return Diagnostic(code, severity, f"problem at {line}", file, line, 1)


def test_inputs_defaults_and_validation() -> None:
    assert read_inputs({}) == ActionInputs()
    got = read_inputs(
        {
            "RECONCILER_PATH": "mesh",
            "RECONCILER_COMMENT": "true",
            "RECONCILER_MAX_ANNOTATIONS": "3",
            "RECONCILER_FAIL_ON": "warning",
            "RECONCILER_COMPILE": "all",
        }
    )
    assert (got.path, got.comment, got.max_annotations, got.fail_on) == ("mesh", True, 3, "warning")
    assert (got.compile, ActionInputs().compile) == ("all", "reached")
    for env in (
        {"RECONCILER_FAIL_ON": "sometimes"},
        {"RECONCILER_COMMENT": "yes"},
        {"RECONCILER_MAX_ANNOTATIONS": "ten"},
        {"RECONCILER_MAX_ANNOTATIONS": "-1"},
        {"RECONCILER_COMPILE": "some"},
    ):
        with pytest.raises(UsageError):
            read_inputs(env)


def test_base_from_event_input_sha_or_branch() -> None:
    event = {
        "pull_request": {
            "number": 3,
            "base": {"sha": SHA, "repo": {"full_name": "o/r"}},
            "head": {"repo": {"full_name": "fork/r"}},
        }
    }
    assert resolve_base("", event) == BaseCommit(SHA, SHA)
    assert resolve_base("", {}) is None
    assert resolve_base("main", {}) == BaseCommit(
        "refs/remotes/origin/main", "+refs/heads/main:refs/remotes/origin/main"
    )
    for hostile in ("--upload-pack=x", "a..b", "main;rm", "$(x)"):
        with pytest.raises(UsageError):
            resolve_base(hostile, {})
    pr = pull_request(event)
    assert pr.number == 3 and pr.from_fork


def test_changed_lines_from_contents() -> None:
    base = [SourceFile("a.yaml", b"one\ntwo\nthree\n"), SourceFile("same.yaml", b"x\n")]
    head = [
        SourceFile("a.yaml", b"one\nTWO\nthree\nfour\n"),
        SourceFile("same.yaml", b"x\n"),
        SourceFile("new.yaml", b"n\n"),
    ]
    changed = changed_lines(base, head)
    assert changed == {"a.yaml": {2, 4}, "new.yaml": None}
    assert on_changed_line(changed, "a.yaml", 4) and not on_changed_line(changed, "a.yaml", 1)
    assert on_changed_line(changed, "new.yaml", 99) and not on_changed_line(changed, "same.yaml", 1)


def test_annotation_selection_changed_lines_first_and_capped() -> None:
    diags = [diag("old.yaml", i) for i in range(1, 15)] + [diag("new.yaml", 5)]
    diags += [diag("old.yaml", 1, Severity.WARNING, "RC401")]
    chosen = select(diags, {"new.yaml": None}, per_severity=10)
    assert chosen.shown[0].file == "new.yaml"
    assert sum(d.severity is Severity.ERROR for d in chosen.shown) == 10
    assert chosen.hidden[Severity.ERROR] == 5 and chosen.hidden[Severity.WARNING] == 0
    commands = chosen.commands()
    assert commands[-1] == "::notice title=reconciler::5 more errors are listed in the job summary"


def test_set_output_heredoc_round_trips_through_the_harness_parser(tmp_path: Path) -> None:
    out = tmp_path / "out"
    set_output("report", "line 1\nerrors=3\nname<<EOF", path=str(out))
    set_output("errors", "3", path=str(out))
    with out.open("a") as f:
        f.write("plain=value=with=equals\n")
    assert parse_env_file(out.read_text()) == {
        "report": "line 1\nerrors=3\nname<<EOF",
        "errors": "3",
        "plain": "value=with=equals",
    }


def test_commands_parse_escaped_and_stop_commands() -> None:
    d = Diagnostic("RC204", Severity.ERROR, "a: b, 50%\nnext", "dir,x/f:1.yaml", 3, 4)
    text = github_command(d) + "\n::stop-commands::tok\n::error::ignored\n::tok::\n"
    (ann,) = parse_commands(text)
    assert ann.properties == {"file": "dir,x/f:1.yaml", "line": "3", "col": "4", "title": "RC204"}
    assert ann.message == "a: b, 50%\nnext"


def test_expressions() -> None:
    ctx = {
        "inputs": {"comment": "true", "python-version": ""},
        "steps": {"check": {"outputs": {"failed": "true"}}},
    }
    assert evaluate("inputs.python-version != ''", ctx) is False
    assert evaluate("inputs.comment == 'TRUE'", ctx) is True
    assert (
        evaluate("!(inputs.comment == 'true') || steps.check.outputs.failed == 'true'", ctx) is True
    )
    assert (
        substitute("x=${{ steps.check.outputs.failed }} y=${{ steps.nope.outputs.z }}", ctx)
        == "x=true y="
    )
    assert condition("inputs.comment == 'true'", ctx, "failure") is False
    assert condition("always() && inputs.comment == 'true'", ctx, "failure") is True
    with pytest.raises(ValueError):
        evaluate("contains(inputs.comment, 'x')", ctx)


def big_changes(n: int) -> ChangeSet:
    fields = tuple(
        FieldChange(f"virtual_hosts[0].routes[{j}].route.timeout", "1s", "2s") for j in range(50)
    )
    return ChangeSet(
        proxies=tuple(
            ProxyChange(
                f"default.p-{i}",
                Action.CONFIGURED,
                (ResourceChange(TypeUrl.ROUTE, "outbound:x", Action.CONFIGURED, fields),),
            )
            for i in range(n)
        )
    )


def test_summary_within_one_mebibyte_and_comment_within_65536() -> None:
    diags = [diag(f"f{i}.yaml", i) for i in range(3000)]
    changes = big_changes(2000)
    text = summary(diags, changes, files=3000, resources=3000)
    assert len(text.encode()) <= SUMMARY_LIMIT_BYTES
    assert "problem at 2999" in text  # every diagnostic fits here
    assert "truncated:" in text and "more proxies" in text
    body = comment(diags, changes, files=3000, resources=3000)
    assert body.startswith(COMMENT_MARKER) and len(body) <= 65_536
