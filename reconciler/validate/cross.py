"""The cross-resource rules, run again only where a change can alter their findings.

Contract of :class:`CrossState`:

* :meth:`CrossState.update` takes a revision as its files in repository order, each
  ``(path, digest)`` (the digest names the content), and ``resources_of(path)``, the
  resources of a file in their order. Afterwards :meth:`CrossState.diagnostics` are exactly
  what running every rule over every resource gives (``check_mesh``), whatever the state
  held before: the same diagnostics, positions and messages.
* Per file it keeps the facts its resources contribute to the index, the findings of the
  rules on them and the keys of the facts the rules read (``rules/cross_view.py``). A file
  whose digest changed, or that appeared or went, changes the facts under some keys; only
  the changed files and the files that read one of those keys are checked again, and
  ``resources_of`` is called only for them and for the Dataplanes their rules look at.
* Files keep their relative order between revisions; if it changes, every file is checked.
* :meth:`to_plain` and :meth:`from_plain` turn the state into plain tuples and back (what
  ``marshal`` writes), with the diagnostics encoded by the caller's functions.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from reconciler.diagnostics import Diagnostic
from reconciler.model import Resource

if TYPE_CHECKING:
    from reconciler.validate.rules import CrossResourceRule
    from reconciler.validate.rules.cross_view import CrossView, Entry, Fact, Key

ResourcesOf = Callable[[str], Sequence[Resource]]


FileFindings = tuple[str, tuple["Fact", ...], frozenset["Key"], tuple[Any, ...]]
"""One file's part: ``(digest, facts, keys read, diagnostics)``; plain tuples, so that a
stored state is used as ``marshal`` reads it. A diagnostic is a :class:`Diagnostic`, or
still encoded when the state was read from disk (decoded when asked for)."""


class CrossState:
    """The cross-resource findings of one revision, kept to check the next one."""

    __slots__ = ("_checked", "_decode", "_files", "_index", "checked")

    def __init__(self) -> None:
        self._files: dict[str, FileFindings] = {}
        self._index: dict[Key, list[Entry]] | None = {}
        self._decode: Callable[[tuple[Any, ...]], Diagnostic] | None = None
        self._checked: set[str] = set()
        """Files checked since the last :meth:`to_plain`."""
        self.checked = 0
        """How many files the last :meth:`update` checked (the others kept their findings)."""

    def diagnostics(self) -> Iterator[Diagnostic]:
        for findings in self._files.values():
            for diag in findings[3]:
                yield diag if type(diag) is Diagnostic else self._decoded(diag)

    def _decoded(self, raw: tuple[Any, ...]) -> Diagnostic:
        assert self._decode is not None
        return self._decode(raw)

    def encoded_diagnostics(
        self, encode: Callable[[Diagnostic], tuple[Any, ...]]
    ) -> dict[str, tuple[Any, ...]]:
        """``path -> encoded diagnostics`` of the files that have some."""
        return {
            path: tuple(encode(d) if type(d) is Diagnostic else d for d in findings[3])
            for path, findings in self._files.items()
            if findings[3]
        }

    def update(self, files: Sequence[tuple[str, str]], resources_of: ResourcesOf) -> None:
        try:
            self._update(files, resources_of)
        except BaseException:
            self._files, self._index = {}, {}  # half updated: the next update checks all
            raise

    def _update(self, files: Sequence[tuple[str, str]], resources_of: ResourcesOf) -> None:
        previous = self._files
        order = {path: n for n, (path, _) in enumerate(files)}
        if len(order) != len(files):
            raise ValueError("a file is listed twice")
        if list(previous) != list(order) and [p for p in previous if p in order] != [
            p for p in order if p in previous
        ]:
            # another order: the first resource of a name may be another one
            self._files, self._index = {}, {}
            self._update(files, resources_of)
            return
        changed = [p for p, d in files if (f := previous.get(p)) is None or f[0] != d]
        removed = [p for p in previous if p not in order]
        if not changed and not removed:
            self.checked = 0
            return
        # the rules, the kinds and their index: imported once something changed
        from reconciler.validate.rules import CROSS_RESOURCE_RULES as rules
        from reconciler.validate.rules.cross_view import CrossView, facts

        index = self._built_index()
        changed_keys: set[Key] = set()
        new_facts: dict[str, tuple[Fact, ...]] = {}
        for path in removed:
            changed_keys.add(("file", path))
            _remove(index, path, previous[path][1])
            changed_keys.update(key for key, _ in previous[path][1])
        for path in changed:
            found = new_facts[path] = tuple(facts(resources_of(path)))
            if not previous:  # every file is new, in order: appended, and all checked
                for key, value in found:
                    index.setdefault(key, []).append((path, value))
                continue
            old: tuple[Fact, ...] = previous[path][1] if path in previous else ()
            _remove(index, path, old)
            _add(index, path, found, order)
            changed_keys.add(("file", path))
            changed_keys.update(_changed_keys(old, found))
        # a resource's own key is read without being recorded: its holders are in the index
        holders = {p for k in changed_keys if k[0] == "key" for p, _ in index.get(k, ())}
        self._files = {}
        self.checked = 0
        view = CrossView(index, resources_of)
        for path, digest in files:
            fresh = new_facts.get(path)
            if fresh is None:
                known = previous[path]
                if path not in holders and changed_keys.isdisjoint(known[2]):
                    self._files[path] = known
                    continue
                fresh = known[1]
            self._files[path] = _check_file(digest, fresh, resources_of(path), view, rules)
            self._checked.add(path)
            self.checked += 1

    def _built_index(self) -> dict[Key, list[Entry]]:
        if self._index is None:
            index: dict[Key, list[Entry]] = {}
            for path, findings in self._files.items():
                for key, value in findings[1]:
                    entries = index.get(key)
                    if entries is None:
                        index[key] = [(path, value)]
                    else:
                        entries.append((path, value))
            self._index = index
        return self._index

    def to_plain(self, encode: Callable[[Diagnostic], tuple[Any, ...]]) -> dict[str, Any]:
        """The state as plain data. Equal sets of keys read (most files read the same few
        keys) become one object, which ``marshal`` writes once and reads back shared."""
        shared: dict[frozenset[Key], frozenset[Key]] = {}
        for path in self._checked & self._files.keys():
            digest, facts, deps, diags = self._files[path]
            self._files[path] = (digest, facts, shared.setdefault(deps, deps), diags)
        self._checked = set()
        return {
            path: f
            if not f[3]
            else (*f[:3], tuple(encode(d) if type(d) is Diagnostic else d for d in f[3]))
            for path, f in self._files.items()
        }

    @classmethod
    def from_plain(
        cls, plain: object, decode: Callable[[tuple[Any, ...]], Diagnostic]
    ) -> CrossState:
        """The inverse of :meth:`to_plain` (ValueError if it is not a state)."""
        if not isinstance(plain, dict) or not all(
            type(f) is tuple and len(f) == 4 and type(f[2]) is frozenset for f in plain.values()
        ):
            raise ValueError("not a cross-resource state")
        state = cls()
        state._files = plain
        state._decode = decode
        state._index = None  # built when a change needs it
        return state


def check_resources(resources: Sequence[Resource]) -> list[Diagnostic]:
    """Every cross-resource diagnostic of ``resources`` (the files' resources one after the
    other, in repository order)."""
    by_file: dict[str, list[Resource]] = {}
    for resource in resources:
        by_file.setdefault(resource.file, []).append(resource)
    state = CrossState()
    state.update([(path, "") for path in by_file], by_file.__getitem__)
    return list(state.diagnostics())


def _check_file(
    digest: str,
    found: tuple[Fact, ...],
    resources: Sequence[Resource],
    view: CrossView,
    rules: Sequence[CrossResourceRule],
) -> FileFindings:
    view.deps = set()
    diags: list[Diagnostic] = []
    if resources:
        for rule in rules:
            diags.extend(rule(resources, view))
    return digest, found, frozenset(view.deps), tuple(diags)


def _remove(index: dict[Key, list[Entry]], path: str, old: Sequence[Fact]) -> None:
    for key, value in old:
        entries = index.get(key)
        if entries is not None:
            entries.remove((path, value))
            if not entries:
                del index[key]


def _add(
    index: dict[Key, list[Entry]], path: str, found: Sequence[Fact], order: dict[str, int]
) -> None:
    def rank(entry: Entry) -> tuple[int, int]:
        return order[entry[0]], entry[1][0]

    for key, value in found:
        entry = (path, value)
        entries = index.get(key)
        if entries is None:
            index[key] = [entry]
        elif rank(entries[-1]) <= rank(entry):
            entries.append(entry)
        else:
            insort(entries, entry, key=rank)


def _changed_keys(old: Sequence[Fact], new: Sequence[Fact]) -> set[Key]:
    """Keys whose facts differ between two versions of a file (a Dataplane's keys always)."""
    from reconciler.validate.rules.cross_view import CONTENT_KEYS

    before: dict[Key, list[Any]] = {}
    after: dict[Key, list[Any]] = {}
    for found, into in ((old, before), (new, after)):
        for key, value in found:
            into.setdefault(key, []).append(value)
    return {
        key
        for key in before.keys() | after.keys()
        if key[0] in CONTENT_KEYS or before.get(key) != after.get(key)
    }
