"""``validate`` of a directory, again: work proportional to what changed since the last run.

The cache directory keeps, per source tree (the paths given, the working directory and the
size limit), what the last run found: every file's stat, blob id, resource count and own
diagnostics, and the cross-resource state (``validate/cross.py``). The next run stats
every file and reads only those whose size, mtime or inode differ (or that changed within
:data:`~reconciler.cache.RACY_SECONDS` of the last write: git's "racy clean" rule). Files
with new content are parsed (or found in the cache by blob id); the cross-resource rules
run again only for the files a change can affect, and an unchanged file's resources are
built only if a rule reads them. The report is the one a run without cache gives
(``tests/unit/test_validate_incremental.py`` compares them over many changes).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.cache import (
    RACY_SECONDS,
    FileCache,
    decode_diagnostic,
    encode_diagnostic,
    read_tree,
    write_tree,
)
from reconciler.diagnostics import Diagnostic, sorted_diagnostics
from reconciler.load import DEFAULT_MAX_FILE_SIZE, SourceFile, discover, read_files
from reconciler.model import Resource
from reconciler.validate.cross import CrossState

if TYPE_CHECKING:
    from reconciler.pipeline import Analysis


@dataclass(frozen=True, slots=True)
class Verdict:
    """What ``validate`` reports: how many files and resources, and every problem, sorted."""

    files: int
    resources: int
    diagnostics: tuple[Diagnostic, ...]

    @classmethod
    def of(cls, analysis: Analysis) -> Verdict:
        return cls(analysis.files, len(analysis.resources), analysis.diagnostics)


class _Stale(Exception):
    """A cache entry the state relies on is gone: start again without the state."""


Record = tuple[int, int, int, str, int, tuple[Any, ...]]
"""Per file: ``(size, mtime_ns, inode, blob id, resource count, encoded own diagnostics)``."""


def check_tree(
    paths: Sequence[str | os.PathLike[str]],
    *,
    cache_dir: Path | None,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    workers: int | None = None,
) -> Verdict:
    """Validate the files under ``paths``; with ``cache_dir``, incrementally (see above)."""
    if cache_dir is None:
        from reconciler.pipeline import analyze_paths

        return Verdict.of(analyze_paths(paths, max_file_size=max_file_size, workers=workers))
    key = repr((os.getcwd(), [os.fspath(p) for p in paths], max_file_size))
    try:
        return _check(paths, cache_dir, key, max_file_size, workers, read_tree(cache_dir, key))
    except _Stale:
        return _check(paths, cache_dir, key, max_file_size, workers, None)


def _check(
    paths: Sequence[str | os.PathLike[str]],
    cache_dir: Path,
    key: str,
    max_file_size: int,
    workers: int | None,
    before: tuple[int, Any] | None,
) -> Verdict:
    found = list(discover(paths))
    cache = FileCache(cache_dir)
    records: dict[str, Record] = {}
    cross_found: dict[str, tuple[Any, ...]] = {}
    racy_ns = 0
    if before is not None and _is_state(before[1]):
        records, cross_found = before[1]
        racy_ns = before[0] - int(RACY_SECONDS * 1e9)
    unchanged: dict[str, Record] = {}
    stats: dict[str, tuple[int, int, int]] = {}
    for display, real in found:
        try:
            st = os.stat(real)
        except OSError:
            continue  # reading it reports the problem
        known = records.get(display)
        if (
            known is not None
            and known[1] == st.st_mtime_ns
            and known[0] == st.st_size
            and known[2] == st.st_ino
            and st.st_mtime_ns < racy_ns
        ):
            unchanged[display] = known
        else:
            stats[display] = (st.st_size, st.st_mtime_ns, st.st_ino)
    if not stats and len(unchanged) == len(records) == len(found):
        # nothing changed (same files, same stats): the last run's answer
        return _same(records, cross_found)
    files, read_diags = read_files(
        [(d, r) for d, r in found if d not in unchanged], max_size=max_file_size
    )
    fresh: list[SourceFile] = []
    for file in files:
        known = records.get(file.path)
        seen = stats.get(file.path)
        if known is not None and seen is not None and known[3] == file.digest:
            unchanged[file.path] = (*seen, *known[3:])  # touched, same content
        else:
            fresh.append(file)
    results: dict[str, tuple[list[Resource], list[Diagnostic]]] = {}
    if fresh:  # the parser, the schemas and the rules: only for files with new content
        from reconciler.pipeline import file_results

        results = file_results(fresh, cache, workers)

    order: list[tuple[str, str]] = []
    diagnostics: list[Diagnostic] = list(read_diags)
    new_records: dict[str, Record] = {}
    resources = 0
    digests = {f.path: f.digest for f in fresh}
    for display, _ in found:
        record = unchanged.get(display)
        if record is not None:
            diagnostics.extend(decode_diagnostic(d) for d in record[5])
        elif display in results:
            file_resources, own = results[display]
            diagnostics.extend(own)
            seen = stats.get(display)
            if seen is None:  # read, but not stated: read again next time
                resources += len(file_resources)
                order.append((display, digests[display]))
                continue
            encoded = tuple(encode_diagnostic(d) for d in own)
            record = (*seen, digests[display], len(file_resources), encoded)
        else:
            continue  # unreadable or too large: a diagnostic of read_files
        resources += record[4]
        order.append((display, record[3]))
        new_records[display] = record
    if fresh or list(records) != list(new_records):
        # something changed: the cross-resource state, its index and the rules are needed
        cross_found = _cross_check(cache, cache_dir, key, order, unchanged, results)
        cache.keep(record[3] for record in unchanged.values())
        cache.save()
    for encoded_diags in cross_found.values():
        diagnostics.extend(decode_diagnostic(d) for d in encoded_diags)
    if new_records != records:
        write_tree(cache_dir, key, (new_records, cross_found))
    return Verdict(len(order) + len(read_diags), resources, tuple(sorted_diagnostics(diagnostics)))


def _is_state(payload: object) -> bool:
    """The shape of a tree state (a damaged one is ignored: every file is read again)."""
    if not (isinstance(payload, tuple) and len(payload) == 2):
        return False
    records, cross_found = payload
    return (
        isinstance(records, dict)
        and isinstance(cross_found, dict)
        and all(type(r) is tuple and len(r) == 6 for r in records.values())
    )


def _same(records: dict[str, Record], cross_found: dict[str, tuple[Any, ...]]) -> Verdict:
    diagnostics = [
        decode_diagnostic(d)
        for encoded in (*(r[5] for r in records.values() if r[5]), *cross_found.values())
        for d in encoded
    ]
    resources = sum(r[4] for r in records.values())
    return Verdict(len(records), resources, tuple(sorted_diagnostics(diagnostics)))


def _cross_check(
    cache: FileCache,
    cache_dir: Path,
    key: str,
    order: list[tuple[str, str]],
    unchanged: dict[str, Record],
    results: dict[str, tuple[list[Resource], list[Diagnostic]]],
) -> dict[str, tuple[Any, ...]]:
    """Update the tree's cross-resource state with this run's files; the encoded
    diagnostics of each file that has some."""
    cross = CrossState()
    stored = read_tree(cache_dir, key, CROSS)
    if stored is not None:
        try:
            cross = CrossState.from_plain(stored[1], decode_diagnostic)
        except ValueError:
            cross = CrossState()
    loaded: dict[str, Sequence[Resource]] = {}

    def resources_of(path: str) -> Sequence[Resource]:
        if path in results:
            return results[path][0]
        if path not in loaded:
            from reconciler.pipeline import cached_resources

            entry = cache.get(unchanged[path][3])
            if entry is None or entry.text is None:
                raise _Stale(path)
            loaded[path] = cached_resources(path, entry)
        return loaded[path]

    try:
        cross.update(order, resources_of)
    except (TypeError, ValueError, IndexError, KeyError, AttributeError):  # a damaged state
        cross = CrossState()
        cross.update(order, resources_of)
    write_tree(cache_dir, key, cross.to_plain(encode_diagnostic), CROSS)
    return cross.encoded_diagnostics(encode_diagnostic)


CROSS = "cross"
"""The part of a tree's state that holds the cross-resource state (read when a file changed)."""
