"""The state directory journal: last N applied revisions, versions, rollback pin."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler import journal as journal_module
from reconciler.journal import Journal, JournalEntry


def entry(i: int, sha: str | None = None) -> JournalEntry:
    return JournalEntry(
        sha=sha or f"{i:040x}",
        content_hash=f"h{i}",
        time=1000.0 + i,
        proxies=(f"default.p{i}",),
        author="Ann",
        message=f"commit {i}",
    )


def test_keeps_the_last_n_oldest_first(tmp_path: Path) -> None:
    journal = Journal(tmp_path, keep=3)
    assert journal.entries() == [] and journal.last() is None
    for i in range(5):
        journal.record(entry(i))
    again = Journal(tmp_path, keep=3)
    assert [e.message for e in again.entries()] == ["commit 2", "commit 3", "commit 4"]
    assert again.last() == entry(4)
    assert not list(tmp_path.glob(".journal*"))  # no temporary files left


def test_torn_lines_are_skipped(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.record(entry(1))
    with journal.path.open("a") as fh:
        fh.write('{"sha": "trunc')
    assert journal.entries() == [entry(1)]


def test_find_by_unique_prefix(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.record(entry(1, "abcd" + "1" * 36))
    journal.record(entry(2, "abce" + "2" * 36))
    assert journal.find("abcd1") == entry(1, "abcd" + "1" * 36)
    assert journal.find("abc") is None  # too short
    assert journal.find("abc1") is None  # no match
    journal.record(entry(3, "abcd" + "3" * 36))
    assert journal.find("abcd") is None  # ambiguous
    assert journal.find("--upload-pack") is None


def test_each_version_is_traced_to_the_commit_that_introduced_it(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    assert journal.introduced_by("aaaa") is None
    journal.note_versions(["aaaa", "bbbb"], "1" * 40)
    journal.note_versions(["aaaa", "cccc"], "2" * 40)  # aaaa was already served by commit 1
    assert [journal.introduced_by(v) for v in ("aaaa", "bbbb", "cccc")] == [
        "1" * 40,
        "1" * 40,
        "2" * 40,
    ]
    # a restart reads the record back; serving a version again does not re-attribute it
    restarted = Journal(tmp_path)
    restarted.note_versions(["bbbb"], "3" * 40)
    assert restarted.introduced_by("bbbb") == "1" * 40
    assert Journal(tmp_path).introduced_by("cccc") == "2" * 40


def test_version_record_forgets_the_least_recently_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_module, "MAX_VERSIONS", 3)
    journal = Journal(tmp_path)
    journal.note_versions(["a", "b", "c"], "1" * 40)
    journal.note_versions(["a"], "2" * 40)  # served again: most recently used
    journal.note_versions(["d"], "3" * 40)
    assert [Journal(tmp_path).introduced_by(v) for v in "abcd"] == [
        "1" * 40,
        None,
        "1" * 40,
        "3" * 40,
    ]


def test_version_record_grows_by_lines_and_reads_back_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_module, "MAX_VERSIONS", 6)
    monkeypatch.setattr(journal_module, "COMPACT_EVERY", 5)
    journal = Journal(tmp_path)
    served = ["a", "b", "c"]
    for n in range(12):
        served = [*served[1:], f"v{n}"] if n % 3 else [*served, f"w{n}"]
        journal.note_versions(served, f"{n:040d}")
        reread = Journal(tmp_path)
        every = [*"abc", *(f"v{i}" for i in range(12)), *(f"w{i}" for i in range(12))]
        assert {v: reread.introduced_by(v) for v in every} == {
            v: journal.introduced_by(v) for v in every
        }
        log = tmp_path / "versions.log"
        assert not log.exists() or len(log.read_text().splitlines()) <= 5
    assert journal.introduced_by("a") is None  # forgotten: least recently served
    assert journal.introduced_by("w9") == f"{9:040d}"


def test_pin_and_resume(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    assert journal.pin() is None
    pin = journal.set_pin("a" * 40, "bad deploy")
    assert Journal(tmp_path).pin() == pin
    assert journal.clear_pin() is True
    assert journal.clear_pin() is False
    assert journal.pin() is None


def test_server_pid(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    assert journal.server_pid() is None
    journal.write_pid()
    assert journal.server_pid() == os.getpid()
    journal.clear_pid()
    assert journal.server_pid() is None
