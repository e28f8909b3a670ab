"""``reconciler history`` says what its columns count and why a commit appears twice;
``rollback`` names each applied revision once when the SHA is unknown."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli.history import history
from reconciler.cli.main import main
from reconciler.journal import Journal, JournalEntry


def _journal(state: Path) -> Journal:
    journal = Journal(state)
    a, b = "a" * 40, "b" * 40
    journal.record(JournalEntry(a, "h1", 1.0, ("default.web-1",), trigger="branch main"))
    journal.record(JournalEntry(b, "h2", 2.0, ("default.web-1", "default.api-1")))
    journal.record(JournalEntry(a, "h1", 3.0, ("default.web-1",), trigger="local pin: 503s"))
    return journal


def test_history_names_the_changed_column_and_repeated_commits(tmp_path: Path) -> None:
    _journal(tmp_path)
    out = history(tmp_path)
    header, *rows = out.splitlines()
    assert header.split()[:3] == ["COMMIT", "APPLIED", "(UTC)"] and "CHANGED" in header
    assert rows[0].split()[1] == "a" * 12 and "local pin: 503s" in rows[0]
    assert rows[2].split()[0] == "a" * 12
    assert "CHANGED = proxies whose configuration the revision changed" in out


def test_rollback_to_an_unknown_sha_lists_each_revision_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _journal(tmp_path)
    assert main(["rollback", "--to", "c" * 12, "--state-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"(applied: {'a' * 12}, {'b' * 12})" in err
