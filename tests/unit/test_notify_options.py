"""``reconciler serve --notify FORMAT=URL``: what is accepted, what is refused and how."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from reconciler.cli.main import build_parser, main
from reconciler.errors import UsageError
from reconciler.serve.notify import Notifier, Target, parse_target
from reconciler.serve.notify_format import Format


def test_a_target_is_a_format_and_an_http_url_or_a_file_holding_one(tmp_path: Path) -> None:
    assert parse_target("generic=https://ops.example/hook") == Target(
        Format.GENERIC, "https://ops.example/hook"
    )
    url_file = tmp_path / "slack-url"
    url_file.write_text("https://hooks.slack.com/services/T0/B0/XYZ\n")
    target = parse_target(f"slack=@{url_file}")
    assert target == Target(Format.SLACK, "https://hooks.slack.com/services/T0/B0/XYZ")
    assert target.label == "slack:hooks.slack.com", "the URL's secret path is never shown"


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("https://hooks.slack.com/services/T0/B0/XYZ", "is not FORMAT=URL"),
        ("teams=https://x.example/", "is not FORMAT=URL"),
        ("slack=ftp://x.example/", "not an http(s) URL"),
        ("generic=x.example/hook", "not an http(s) URL"),
        ("slack=@/nonexistent/slack-url", "cannot read the --notify URL file"),
    ],
)
def test_a_bad_target_says_what_is_wrong(spec: str, says: str) -> None:
    with pytest.raises(UsageError, match="--notify") as caught:
        parse_target(spec)
    assert says in str(caught.value)
    assert "XYZ" not in str(caught.value), "a Slack URL is a secret: never echoed"


def test_the_generic_format_needs_the_signing_secret() -> None:
    with pytest.raises(UsageError, match="--notify-secret-file"):
        Notifier([Target(Format.GENERIC, "https://ops.example/hook")], CollectorRegistry())
    Notifier([Target(Format.SLACK, "https://hooks.slack.com/x")], CollectorRegistry())


def test_serve_parses_repeated_notify_flags(tmp_path: Path) -> None:
    args = build_parser(["serve"]).parse_args(
        [
            "serve",
            str(tmp_path),
            "--notify",
            "slack=https://hooks.slack.com/services/T0/B0/XYZ",
            "--notify",
            "generic=http://127.0.0.1:9000/hook",
            "--notify-secret-file",
            str(tmp_path / "secret"),
        ]
    )
    assert [t.format for t in args.notify] == [Format.SLACK, Format.GENERIC]
    assert args.notify_secret_file == tmp_path / "secret"


def test_serve_refuses_a_bad_notify_flag_with_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", str(tmp_path), "--notify", "teams=https://x.example/"]) == 2
    assert "--notify teams=... is not FORMAT=URL" in capsys.readouterr().err
