"""The fleet control document, its ref, and a round trip through git: the CLI's writer, a
replica's GitSource reader."""

from __future__ import annotations

from pathlib import Path

import pytest
from git_repo import Repo

from reconciler.errors import UsageError
from reconciler.source.control import (
    Control,
    ControlError,
    check_control_ref,
    control_document,
    default_control_ref,
    parse_control,
)
from reconciler.source.control_git import ControlTarget, write_control
from reconciler.source.git import GitSource
from reconciler.source.git_errors import GitSourceError

SHA = "a" * 40
OLGA = "Olga Operator <olga@example.test>"


def parse(data: bytes) -> Control:
    return parse_control(data, commit="c" * 40, ref="refs/reconciler/control/main", by=OLGA, time=1)


def test_document_round_trip_and_description() -> None:
    control = parse(control_document("pinned", SHA, "bad canary"))
    assert control == parse_control(
        b'{"mode": "pinned", "revision": "' + SHA.encode() + b'", "reason": "bad canary"}',
        commit="c" * 40,
        ref="refs/reconciler/control/main",
        by=OLGA,
        time=1,
    )
    assert control.holds is True
    assert control.describe() == (
        f"rollback by {OLGA} (refs/reconciler/control/main cccccccccccc): bad canary"
    )
    following = parse(control_document("following", None, ""))
    assert following.holds is False and following.revision is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not json", "is not JSON"),
        (b"[]", "is not a JSON object"),
        (b'{"mode": "stopped"}', "mode 'stopped' is not one of"),
        (b'{"mode": "paused"}', "needs a full commit id"),
        (b'{"mode": "pinned", "revision": "abc"}', "needs a full commit id"),
        (b'{"mode": "following", "reason": 3}', "reason is not a string"),
    ],
)
def test_bad_documents_are_control_errors(data: bytes, message: str) -> None:
    with pytest.raises(ControlError, match=message):
        parse(data)


def test_control_refs() -> None:
    assert default_control_ref("main") == "refs/reconciler/control/main"
    assert check_control_ref("refs/heads/mesh-control") == "refs/heads/mesh-control"
    for bad in ("main", "refs/../x", "-refs/x", "refs/x/", "refs/x.lock", "refs/a b", "refs//x"):
        with pytest.raises(UsageError):
            check_control_ref(bad)
    with pytest.raises(UsageError):
        control_document("paused", "abc", "")


def test_written_control_is_read_by_a_replica(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "origin")
    c1 = repo.commit("one", {"mesh/a.yaml": "type: Mesh\nname: default\n"})
    c2 = repo.commit("two", {"mesh/b.yaml": "type: Mesh\nname: other\n"})
    ref = default_control_ref("main")
    target = ControlTarget(repo=str(repo.path), branch="main", ref=ref)
    source = GitSource(str(repo.path), state_dir=tmp_path / "state", control_ref=ref)
    assert source.fetch().id == c2
    assert source.control() is None  # no control ref yet: follow the branch

    written = write_control(target, "pinned", revision=c1[:9], reason="why not", author=OLGA)
    assert (written.revision, written.previous) == (c1, None)
    source.fetch()
    control = source.control()
    assert control is not None
    assert (control.mode, control.revision, control.by, control.reason) == (
        "pinned",
        c1,
        OLGA,
        "why not",
    )
    assert control.commit == written.commit
    assert source.fetch_revision(c1).id == c1

    paused = write_control(target, "paused", author=OLGA)
    assert (paused.revision, paused.previous) == (c2, written.commit)  # the head now
    source.fetch()
    now = source.control()
    assert now is not None and (now.mode, now.commit) == ("paused", paused.commit)
    with pytest.raises(GitSourceError, match="not 'Name <email>'"):
        write_control(target, "following", author="olga")
