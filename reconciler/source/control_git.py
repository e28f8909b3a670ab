"""The control ref in git: read a control commit (replicas), commit and push one (the CLI).

Writing needs no clone and no work tree: a scratch bare repository fetches the control ref's
tip (depth 1) and checks the held revision exists there, ``hash-object``/``mktree``/
``commit-tree`` make the new control commit (its parent: the previous control commit, so the
ref's first-parent log is the record of every change), and ``git push`` sends it as a fast-forward of the control ref, so two operators acting at once cannot
overwrite each other silently: the second push is refused and says so.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass

from reconciler.source.control import (
    CONTROL_FILE,
    MAX_CONTROL_BYTES,
    Control,
    ControlError,
    check_control_ref,
    control_document,
    parse_control,
)
from reconciler.source.git_command import DEFAULT_TIMEOUT_S, GitRunner
from reconciler.source.git_errors import GitSourceError, SourceReason
from reconciler.source.git_objects import commit_meta, list_tree, read_objects, resolve_commit
from reconciler.source.git_safety import check_branch, normalize_url, redact

_AUTHOR = re.compile(r"([^<>\n]+?)\s*<([^<>\s]+)>")
SHORT_SHA_DEPTH = 200
"""How far back on the branch a short commit id is looked up (a full id is fetched as is)."""


def read_control(git: GitRunner, sha: str, ref: str) -> Control:
    """The control document of commit ``sha`` (already in ``git``'s repository)."""
    entries = {e.path: e for e in list_tree(git, sha, "")}
    entry = entries.get(CONTROL_FILE)
    if entry is None or entry.kind != "blob":
        raise ControlError(f"{ref} ({sha[:12]}) has no {CONTROL_FILE}")
    if entry.size > MAX_CONTROL_BYTES:
        raise ControlError(f"{CONTROL_FILE} of {ref} is larger than {MAX_CONTROL_BYTES} bytes")
    objects = read_objects(git, [sha, entry.oid])
    meta = commit_meta(objects[sha][1])
    by = f"{meta.get('author', '')} <{meta.get('email', '')}>".strip()
    when = float(meta["time"]) if meta.get("time", "").isdigit() else 0.0
    return parse_control(objects[entry.oid][1], commit=sha, ref=ref, by=by, time=when)


@dataclass(frozen=True, slots=True)
class ControlTarget:
    """Where a fleet's control lives: the repository the servers follow, and the ref."""

    repo: str
    branch: str
    ref: str
    timeout_s: float = DEFAULT_TIMEOUT_S


@dataclass(frozen=True, slots=True)
class Written:
    commit: str
    revision: str | None
    previous: str | None
    """The control commit replaced (None: the ref did not exist)."""


def write_control(
    target: ControlTarget,
    mode: str,
    *,
    revision: str | None = None,
    reason: str = "",
    author: str,
) -> Written:
    """Commit a control document to ``target.ref`` and push it (GitSourceError on failure).

    ``revision``: a commit id, full or short (looked up on the branch), for ``pinned``; for
    ``paused``, None means the branch head now. ``author``: ``Name <email>``.
    """
    who = _AUTHOR.fullmatch(author.strip())
    if who is None:
        raise GitSourceError(SourceReason.REFUSED, f"author {author!r} is not 'Name <email>'")
    url, local = normalize_url(target.repo)
    ref = check_control_ref(target.ref)
    branch = check_branch(target.branch)
    with tempfile.TemporaryDirectory(prefix="reconciler-control-") as scratch:
        git = GitRunner(git_dir=scratch, allow_file=local, timeout_s=target.timeout_s)
        outside = GitRunner(allow_file=local, timeout_s=target.timeout_s)
        outside.run(["init", "--bare", "--quiet", "--template=", scratch], what="scratch repo")
        heads = _ls_remote(git, url, [ref, f"refs/heads/{branch}"])
        previous = heads.get(ref)
        held: str | None = None
        if mode != "following":
            held = _held_revision(git, url, branch, revision, heads.get(f"refs/heads/{branch}"))
        fetches = [sha for sha in (previous, held) if sha]
        if fetches:
            _fetch(git, url, fetches, depth=1)
        document = control_document(mode, held, reason)
        blob = git.run(["hash-object", "-w", "--stdin"], stdin=document, what="write control")
        tree = git.run(
            ["mktree"],
            stdin=f"100644 blob {blob.decode().strip()}\t{CONTROL_FILE}\n".encode(),
            what="write control tree",
        )
        parents = ["-p", previous] if previous else []
        message = (
            f"reconciler {mode}" + (f" {held}" if held else "") + (f": {reason}" if reason else "")
        )
        commit = git.run(
            [
                "-c",
                f"user.name={who.group(1)}",
                "-c",
                f"user.email={who.group(2)}",
                "commit-tree",
                tree.decode().strip(),
                *parents,
                "-m",
                message,
            ],
            what="commit control",
        )
        sha = commit.decode().strip()
        try:
            git.run(
                # without advice, git's last lines name the rejection (read below)
                [
                    "-c",
                    "advice.pushUpdateRejected=false",
                    "push",
                    "--quiet",
                    "--end-of-options",
                    url,
                    f"{sha}:{ref}",
                ],
                what="push control",
            )
        except GitSourceError as exc:
            if "rejected" in str(exc) or "fetch first" in str(exc):
                raise GitSourceError(
                    SourceReason.GIT_FAILED,
                    f"{ref} in {redact(url)} changed while this command ran",
                    hint="run it again: it starts from the newest control commit",
                ) from exc
            raise
        return Written(commit=sha, revision=held, previous=previous)


def _ls_remote(git: GitRunner, url: str, refs: list[str]) -> dict[str, str]:
    out = git.run(["ls-remote", "--end-of-options", url, *refs], what="ls-remote")
    found: dict[str, str] = {}
    for line in out.decode().splitlines():
        sha, _, name = line.partition("\t")
        if name in refs:
            found[name] = sha
    return found


def _fetch(git: GitRunner, url: str, what: list[str], *, depth: int) -> None:
    git.run(
        [
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            "--no-recurse-submodules",
            f"--depth={depth}",
            "--end-of-options",
            url,
            *what,
        ],
        what="fetch",
    )


def _held_revision(
    git: GitRunner, url: str, branch: str, revision: str | None, head: str | None
) -> str:
    """The full id of ``revision`` (None: the branch head), checked to exist in the remote."""
    if revision is None:
        if head is None:
            raise GitSourceError(
                SourceReason.BRANCH_DELETED, f"branch {branch!r} does not exist in {redact(url)}"
            )
        return head
    wanted = revision.lower()
    if not re.fullmatch(r"[0-9a-f]{7,40}", wanted):
        raise GitSourceError(
            SourceReason.REFUSED, f"{revision!r} is not a commit id (7 to 40 hex digits)"
        )
    if len(wanted) == 40:
        try:
            _fetch(git, url, [wanted], depth=1)
        except GitSourceError as exc:
            raise GitSourceError(
                exc.reason, f"commit {wanted} is not in {redact(url)}: {exc.message}"
            ) from exc
        return resolve_commit(git, wanted)
    if head is None:
        raise GitSourceError(
            SourceReason.BRANCH_DELETED, f"branch {branch!r} does not exist in {redact(url)}"
        )
    _fetch(git, url, [f"+refs/heads/{branch}:refs/heads/{branch}"], depth=SHORT_SHA_DEPTH)
    try:
        return resolve_commit(git, wanted)
    except GitSourceError as exc:
        raise GitSourceError(
            SourceReason.GIT_FAILED,
            f"{revision!r} is not one of the last {SHORT_SHA_DEPTH} commits of {branch!r} "
            f"(or is ambiguous)",
            hint="give the full commit id",
        ) from exc
