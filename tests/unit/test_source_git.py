"""GitSource and read_commit_files against real repositories made in tmp_path."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from git_repo import Repo as _Repo

from reconciler.load import SourceFile
from reconciler.source.git import GitSource, read_commit_files, read_local_commit
from reconciler.source.git_cache import KEEP_PREFIX, locked
from reconciler.source.git_command import GitRunner
from reconciler.source.git_errors import GitSourceError, SourceReason, reason_code
from reconciler.source.git_objects import read_commit


class Repo(_Repo):
    """Commit ids are the same on every run (pinned dates)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, pinned_dates=True)


MESH = "type: Mesh\nname: default\n"


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    r = Repo(tmp_path / "origin")
    r.commit("first", {"mesh/mesh.yaml": MESH})
    return r


def _files(repo: Repo, **files: str) -> None:
    for rel, text in files.items():
        repo.write(rel, text)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[list[str], bytes | None]]]:
    """Every git call GitRunner makes: (args, stdin)."""
    seen: list[tuple[list[str], bytes | None]] = []
    real = GitRunner.run

    def spy(
        self: GitRunner, args: list[str], *, stdin: bytes | None = None, what: str = "git"
    ) -> bytes:
        seen.append((list(args), stdin))
        return real(self, args, stdin=stdin, what=what)

    monkeypatch.setattr(GitRunner, "run", spy)
    yield seen


def test_read_commit_files_reads_objects_under_path_named_from_the_root(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    _files(repo, **{"mesh/a.yaml": MESH, "mesh/sub/b.yml": "x: 1\n", "mesh/README.md": "no"})
    _files(repo, **{"mesh/.hidden/c.yaml": "x: 2\n", "other/d.yaml": "x: 3\n"})
    first = repo.commit("one")
    repo.commit("two", {"mesh/a.yaml": "type: Mesh\nname: changed\n"})

    sha, files = read_commit_files(repo.path, first, "mesh")

    assert sha == first
    # paths from the repository root, as every diagnostic names them
    assert [f.path for f in files] == ["mesh/a.yaml", "mesh/sub/b.yml"]
    assert files[0].data == MESH.encode()
    blob = repo.git("rev-parse", f"{first}:mesh/a.yaml")
    assert files[0].digest == blob
    # a directory read of the same bytes gets the same digest (shared analysis cache)
    assert SourceFile("a.yaml", MESH.encode()).digest == blob


def test_read_commit_warns_for_symlinks_and_submodules_and_reads_meta(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.write("a.yaml", MESH)
    (repo.path / "link.yaml").symlink_to("/etc/passwd")
    repo.git("add", "-A")
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{'1' * 40},vendor.yaml")
    repo.git("commit", "-q", "-m", "with a link")  # not commit(): `add -A` drops the gitlink
    sha = repo.git("rev-parse", "HEAD")

    commit = read_local_commit(repo.path, "main")

    assert commit.sha == sha
    assert [f.path for f in commit.files] == ["a.yaml"]
    assert [(d.code, d.file) for d in commit.diagnostics] == [
        ("RC650", "link.yaml"),
        ("RC651", "vendor.yaml"),
    ]
    assert commit.meta["author"] == "Ann Author"
    assert commit.meta["message"] == "with a link"
    assert commit.meta["time"] == "1767323045"


def test_fetch_then_nothing_changed_runs_ls_remote_only(
    repo: Repo, tmp_path: Path, calls: list[tuple[list[str], bytes | None]]
) -> None:
    source = GitSource(str(repo.path), state_dir=tmp_path / "state", subpath="mesh")
    first = source.fetch()
    assert first.id == repo.git("rev-parse", "HEAD")
    assert [f.path for f in first.files] == ["mesh/mesh.yaml"]
    assert first.meta["branch"] == "main"
    calls.clear()

    again = source.fetch()

    assert again is first
    assert [c[0][0] for c in calls if c[0][0] != "rev-parse"] == ["ls-remote"]
    assert source.last_success_time is not None


def test_new_commit_reads_only_changed_blobs(
    repo: Repo, tmp_path: Path, calls: list[tuple[list[str], bytes | None]]
) -> None:
    repo.commit("more", {"mesh/other.yaml": "x: 1\n"})
    source = GitSource(str(repo.path), state_dir=tmp_path / "state", subpath="mesh")
    before = source.fetch()
    calls.clear()
    sha = repo.commit("edit one", {"mesh/other.yaml": "x: 2\n"})

    revision = source.fetch()

    assert revision.id == sha
    assert {f.path: f.data for f in revision.files}["mesh/other.yaml"] == b"x: 2\n"
    # the paths that changed since the commit read last, not the whole tree; the fetch left
    # the new objects loose, read without a cat-file process
    assert [args[0] for args, _ in calls] == ["ls-remote", "cat-file", "fetch", "diff-tree"]
    fetches = [args for args, _ in calls if args[:1] == ["fetch"]]
    assert len(fetches) == 1 and "--depth=1" in fetches[0]
    unchanged = {f.path: f for f in revision.files}["mesh/mesh.yaml"]
    assert unchanged is {f.path: f for f in before.files}["mesh/mesh.yaml"]


def test_commits_read_by_difference_equal_commits_read_in_full(
    repo: Repo, tmp_path: Path, calls: list[tuple[list[str], bytes | None]]
) -> None:
    source = GitSource(
        str(repo.path), state_dir=tmp_path / "state", subpath="mesh", max_file_size=1000
    )
    steps: list[dict[str, str | None]] = [
        {"mesh/b.yaml": "b: 1\n", "mesh/sub/c.yml": "c: 1\n", "mesh/README.md": "no"},
        {"mesh/b.yaml": "b: 2\n", "other/d.yaml": "d: 1\n"},  # one edit, one outside
        {"mesh/a-b.yaml": "x: 1\n", "mesh/a/z.yaml": "z: 1\n", "mesh/sub/c.yml": None},
        {"mesh/big.yaml": "x: " + "a" * 5000 + "\n", "mesh/a.yaml": "a: 1\n"},
        {"mesh/big.yaml": "x: 1\n", "mesh/b.yaml": None},  # no longer too large
        {"mesh/huge.yml": "y: " + "b" * 2000 + "\n", "mesh/mesh.yaml": MESH + "# c\n"},
        {"README.md": "only outside the path"},
    ]
    source.fetch()
    for n, files in enumerate(steps):
        if n == 4:  # from here on each fetch is kept as a pack: the objects come from cat-file
            source.git.run(["config", "fetch.unpackLimit", "1"])
        sha = repo.commit("step", files)
        calls.clear()
        revision = source.fetch(sha)
        # loose objects are read directly; packed ones through cat-file
        assert any(args[:2] == ["cat-file", "--batch"] for args, _ in calls) == (n >= 4)
        full = read_commit(GitRunner(work_dir=str(repo.path)), sha, "mesh", max_file_size=1000)
        assert revision.id == sha
        assert [(f.path, f.data, f.oid) for f in revision.files] == [
            (f.path, f.data, f.oid) for f in full.files
        ]
        assert revision.diagnostics == full.diagnostics
        assert {**full.meta, "branch": "main"} == revision.meta
    link = repo.path / "mesh" / "link.yaml"
    link.symlink_to("/etc/passwd")
    sha = repo.commit("a link")
    revision = source.fetch(sha)
    full = read_commit(GitRunner(work_dir=str(repo.path)), sha, "mesh", max_file_size=1000)
    assert revision.diagnostics == full.diagnostics
    assert [(d.code, d.file) for d in revision.diagnostics] == [
        ("RC112", "mesh/huge.yml"),
        ("RC650", "mesh/link.yaml"),
    ]


def test_force_push_is_followed(repo: Repo, tmp_path: Path) -> None:
    source = GitSource(str(repo.path), state_dir=tmp_path / "state")
    before = source.fetch().id
    repo.git("checkout", "-q", "--orphan", "rewrite")
    repo.git("rm", "-q", "-r", "--cached", ".")
    rewritten = repo.commit("rewritten history", {"mesh/mesh.yaml": "type: Mesh\nname: other\n"})
    repo.git("branch", "-q", "-f", "main", rewritten)

    after = source.fetch()

    assert after.id == rewritten != before
    assert after.files[0].data == b"type: Mesh\nname: other\n"


def test_deleted_branch_is_reported_then_recovers(repo: Repo, tmp_path: Path) -> None:
    source = GitSource(str(repo.path), state_dir=tmp_path / "state")
    source.fetch()
    repo.git("checkout", "-q", "-b", "elsewhere")
    repo.git("branch", "-q", "-D", "main")

    with pytest.raises(GitSourceError) as err:
        source.fetch()
    assert err.value.reason is SourceReason.BRANCH_DELETED
    assert reason_code(err.value.reason) == "RC654"
    assert err.value.retryable

    repo.git("checkout", "-q", "-b", "main")
    sha = repo.commit("back")
    assert source.fetch().id == sha


def test_unreachable_repository(repo: Repo, tmp_path: Path) -> None:
    source = GitSource(str(repo.path), state_dir=tmp_path / "state")
    source.fetch()
    shutil.rmtree(repo.path)

    with pytest.raises(GitSourceError) as err:
        source.fetch()
    assert err.value.reason is SourceReason.UNREACHABLE


def test_corrupted_cache_is_recloned(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import reconciler.source.git as git_module

    recreated: list[Path] = []
    real_recreate = git_module.recreate

    def spy(git: GitRunner, cache_dir: Path) -> None:
        recreated.append(cache_dir)
        real_recreate(git, cache_dir)

    monkeypatch.setattr(git_module, "recreate", spy)
    source = GitSource(str(repo.path), state_dir=tmp_path / "state")
    source.fetch()
    for obj in (source.cache_dir / "objects").rglob("*"):
        if obj.is_file():
            obj.chmod(0o644)
            obj.write_bytes(b"garbage")
    sha = repo.commit("next", {"mesh/x.yaml": "x: 1\n"})

    revision = source.fetch()

    assert revision.id == sha
    assert sorted(f.path for f in revision.files) == ["mesh/mesh.yaml", "mesh/x.yaml"]
    assert recreated == [source.cache_dir]


def test_cache_that_is_not_a_repository_is_recreated(repo: Repo, tmp_path: Path) -> None:
    source = GitSource(str(repo.path), state_dir=tmp_path / "state")
    source.cache_dir.mkdir(parents=True)
    (source.cache_dir / "junk").write_text("not a repository")

    assert source.fetch().id == repo.git("rev-parse", "HEAD")


def test_restart_reads_an_applied_commit_without_the_remote(repo: Repo, tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = GitSource(str(repo.path), state_dir=state)
    sha = first.fetch().id
    first.keep({sha})
    shutil.rmtree(repo.path)

    restarted = GitSource(str(repo.path), state_dir=state)
    revision = restarted.read(sha)

    assert revision.id == sha
    assert revision.files[0].path == "mesh/mesh.yaml"
    kept = GitRunner(git_dir=str(state / "git" / restarted.cache_dir.name)).run(
        ["for-each-ref", "--format=%(refname)", KEEP_PREFIX]
    )
    assert kept.decode().split() == [f"{KEEP_PREFIX}{sha}"]


def test_keep_forgets_commits_left_out(repo: Repo, tmp_path: Path) -> None:
    source = GitSource(str(repo.path), state_dir=tmp_path / "state")
    a = source.fetch().id
    b = (repo.commit("b"), source.fetch().id)[1]
    source.keep({a, b})
    source.keep({b})
    out = source.git.run(["for-each-ref", "--format=%(refname)", KEEP_PREFIX]).decode().split()
    assert out == [f"{KEEP_PREFIX}{b}"]


def test_keep_after_a_revision_is_one_transaction(
    repo: Repo, tmp_path: Path, calls: list[tuple[list[str], bytes | None]]
) -> None:
    source = GitSource(str(repo.path), state_dir=tmp_path / "state")
    a = source.fetch().id
    b = (repo.commit("b"), source.fetch().id)[1]
    source.keep({a})
    calls.clear()

    source.keep({b})  # b applied, a left the journal

    assert [args for args, _ in calls] == [["update-ref", "--stdin"]]
    refs = source.git.run(["for-each-ref", "--format=%(refname)", KEEP_PREFIX]).decode().split()
    assert refs == [f"{KEEP_PREFIX}{b}"]
    # a commit the cache does not hold fails the transaction: kept one by one instead
    missing = "f" * 40
    source.keep({a, b, missing})
    refs = source.git.run(["for-each-ref", "--format=%(refname)", KEEP_PREFIX]).decode().split()
    assert refs == sorted([f"{KEEP_PREFIX}{a}", f"{KEEP_PREFIX}{b}"])
    source.keep({b})
    refs = source.git.run(["for-each-ref", "--format=%(refname)", KEEP_PREFIX]).decode().split()
    assert refs == [f"{KEEP_PREFIX}{b}"]


def test_a_held_lock_is_reported(repo: Repo, tmp_path: Path) -> None:
    source = GitSource(str(repo.path), state_dir=tmp_path / "state")
    source.git = GitRunner(git_dir=str(source.cache_dir), allow_file=True, timeout_s=0.2)
    with locked(source.cache_dir, timeout_s=1), pytest.raises(GitSourceError) as err:
        source.fetch()
    assert err.value.reason is SourceReason.LOCKED
    assert reason_code(err.value.reason) == "RC659"


def test_timeout_kills_git(tmp_path: Path) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)  # accepts connections, never answers the TLS handshake
        port = server.getsockname()[1]
        source = GitSource(
            f"https://127.0.0.1:{port}/repo.git", state_dir=tmp_path / "state", timeout_s=1.0
        )
        with pytest.raises(GitSourceError) as err:
            source.fetch()
    assert err.value.reason is SourceReason.TIMEOUT
    assert reason_code(err.value.reason) == "RC655"
    assert err.value.retryable


def test_credentials_never_appear(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: connection refused
    source = GitSource(
        f"https://robot:s3cr3t-token@127.0.0.1:{port}/repo.git", state_dir=tmp_path / "state"
    )
    assert "s3cr3t" not in str(source.describe())
    with pytest.raises(GitSourceError) as err:
        source.fetch()
    assert "s3cr3t" not in str(err.value)
    assert err.value.reason is SourceReason.UNREACHABLE


def test_file_protocol_is_refused_for_a_network_source(repo: Repo, tmp_path: Path) -> None:
    """GIT_ALLOW_PROTOCOL leaves out ``file`` unless the configured source is local."""
    runner = GitRunner(allow_file=False, timeout_s=10)
    with pytest.raises(GitSourceError) as err:
        runner.run(["ls-remote", "--end-of-options", repo.path.as_uri()])
    assert err.value.reason is SourceReason.REFUSED


def test_relative_state_dir(repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    source = GitSource(str(repo.path), state_dir="state")
    first = source.fetch().id
    second = repo.commit("next", {"mesh/x.yaml": "x: 1\n"})
    assert source.fetch().id == second
    source.keep({first, second})
    assert source.read(first).id == first  # both commits stay in the cache


def test_oversized_blobs_are_reported_not_read(repo: Repo, tmp_path: Path) -> None:
    repo.commit("big", {"mesh/big.yaml": "x: " + "a" * 5000 + "\n"})
    source = GitSource(str(repo.path), state_dir=tmp_path / "state", max_file_size=1000)
    revision = source.fetch()
    assert [f.path for f in revision.files] == ["mesh/mesh.yaml"]
    assert [(d.code, d.file) for d in revision.diagnostics] == [("RC112", "mesh/big.yaml")]
