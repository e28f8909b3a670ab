"""The one place that knows the order of the stages.

source files -> load -> validate (per resource, cached per file) -> validate (cross-resource)
-> compile -> snapshot. Commands and the serving loop call these functions; they never chain
stages themselves.
"""

from __future__ import annotations

import gc
import marshal
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.cache import CachedFile, CachedResource, FileCache, decode_cached, encode_cached
from reconciler.diagnostics import Diagnostic, only_errors, sorted_diagnostics
from reconciler.kinds import FLAT_KINDS
from reconciler.load import (
    DEFAULT_MAX_FILE_SIZE,
    LazyLocator,
    LoadedFile,
    SourceFile,
    discover,
    lazy_locator,
    load_file,
    read_files,
    too_large,
)
from reconciler.model import Resource
from reconciler.validate.canonical_form import canonical
from reconciler.validate.checks import check_resource
from reconciler.validate.cross import CrossState

if TYPE_CHECKING:
    from reconciler.compile.compiler import Compiler, CompileResult


@dataclass(frozen=True, slots=True)
class Analysis:
    """A source revision after load and validation: what compile may use, and every problem."""

    files: int
    resources: tuple[Resource, ...]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        """True if the revision may be served: no error, and nothing Envoy would reject."""
        return not any(d.refuses_serving for d in self.diagnostics)


def read_paths(
    paths: Sequence[str | os.PathLike[str]], *, max_file_size: int = DEFAULT_MAX_FILE_SIZE
) -> tuple[list[SourceFile], list[Diagnostic]]:
    """Files under ``paths`` (usage error if a path does not exist)."""
    return read_files(discover(paths), max_size=max_file_size)


FileResults = dict[tuple[str, str], tuple[list[Resource], list[Diagnostic]]]
"""``(path, blob id) -> (resources, diagnostics)`` of one revision's files: handed to the
next :func:`analyze` (``reuse``), an unchanged file gives back the same objects."""


def analyze(
    files: Iterable[SourceFile],
    *,
    cache: FileCache | None = None,
    extra: Iterable[Diagnostic] = (),
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    reuse: FileResults | None = None,
    results: FileResults | None = None,
    cross: CrossState | None = None,
    share: bool = False,
) -> Analysis:
    """Load and validate ``files`` as one revision; all problems at once, sorted.

    ``reuse``: the previous revision's per-file results; a file at the same path with the
    same content keeps its :class:`Resource` objects (the incremental compiler then sees an
    unchanged resource by identity, without comparing documents). ``results`` is filled with
    this revision's per-file results, to pass as the next ``reuse``. ``cross``: the
    cross-resource state of the previous revision, updated in place (only the files a
    change can affect are checked again). ``share`` (for a process that keeps the
    resources, the server): equal innermost maps of the documents analysed in this pass
    are held once (see :func:`_share_leaves`).

    Without ``reuse``, many files not in the cache are parsed in worker processes (see
    :func:`_parse_in_parallel`; never from a process with threads, like the server)."""
    with collector_paused():
        if reuse is None:
            files = list(files)
            uncached = [
                f
                for f in files
                if len(f.data) <= max_file_size and (cache is None or f.digest not in cache)
            ]
            reuse = _parse_in_parallel(uncached, cache, None)
        return _analyze(
            files, cache, extra, max_file_size, reuse, results, cross, {} if share else None
        )


@contextmanager
def collector_paused() -> Iterator[None]:
    """Loading and compiling build hundreds of thousands of small acyclic objects; Python's
    cyclic garbage collector would scan them again and again (a third of a cold `validate`,
    half of a compile). Pause it for the pass and let it run afterwards. Nests."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _analyze(
    files: Iterable[SourceFile],
    cache: FileCache | None,
    extra: Iterable[Diagnostic],
    max_file_size: int,
    reuse: FileResults | None = None,
    results: FileResults | None = None,
    cross: CrossState | None = None,
    leaves: dict[tuple[Any, ...], dict[str, Any]] | None = None,
) -> Analysis:
    diagnostics: list[Diagnostic] = list(extra)
    resources: list[Resource] = []
    by_path: dict[str, list[Resource]] = {}
    order: list[tuple[str, str]] = []
    count = 0
    for file in files:
        count += 1
        if len(file.data) > max_file_size:
            diagnostics.append(too_large(file.path, len(file.data), max_file_size))
            continue
        key = (file.path, file.digest)
        known = reuse.get(key) if reuse is not None else None
        if known is not None:
            if cache is not None:
                cache.get(key[1])  # still used: kept by the next save
            file_resources, file_diags = known
        else:
            file_resources, file_diags = _analyze_file(file, cache)
            if leaves is not None:
                for resource in file_resources:
                    if type(resource.data) is dict:
                        _share_leaves(resource.data, leaves)
        if results is not None:
            results[key] = (file_resources, file_diags)
        resources.extend(file_resources)
        diagnostics.extend(file_diags)
        order.append(key)
        by_path[file.path] = file_resources
    if cross is None:
        cross = CrossState()
    cross.update(order, by_path.__getitem__)
    diagnostics.extend(cross.diagnostics())
    if cache is not None:
        cache.save()
    return Analysis(count, tuple(resources), tuple(sorted_diagnostics(diagnostics)))


_SCALARS = (str, int, float, bool, type(None))


def _share_leaves(
    value: dict[str, Any] | list[Any], leaves: dict[tuple[Any, ...], dict[str, Any]]
) -> None:
    """Replace each map inside ``value`` that holds only scalars (tags, a ``targetRef``, a
    retry back-off...) by an equal one seen before in ``leaves``: the same keys and values,
    of the same types, in the same order. Documents are read-only, so equal content may be
    one object; across a mesh the same small maps repeat thousands of times."""
    items: Iterable[tuple[Any, Any]] = value.items() if type(value) is dict else enumerate(value)
    for key, child in items:
        kind = type(child)
        if kind is dict:
            if all(type(v) in _SCALARS for v in child.values()):
                shape = tuple((k, type(v), v) for k, v in child.items())
                found = leaves.setdefault(shape, child)
                if found is not child:
                    value[key] = found
            else:
                _share_leaves(child, leaves)
        elif kind is list:
            _share_leaves(child, leaves)


def analyze_paths(
    paths: Sequence[str | os.PathLike[str]],
    *,
    cache_dir: Path | None = None,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    workers: int | None = None,
) -> Analysis:
    """Analyze the files under ``paths`` (a file in the cache is not parsed again). Many
    files to parse are split with ``workers`` processes (default: the CPUs this process
    may use). ``check_tree`` (``working_tree.py``) answers ``validate`` without reading
    the unchanged files."""
    files, read_diags = read_files(discover(paths), max_size=max_file_size)
    cache = FileCache(cache_dir) if cache_dir is not None else None
    with collector_paused():
        uncached = [f for f in files if cache is None or f.digest not in cache]
        parsed = _parse_in_parallel(uncached, cache, workers)
        analysis = _analyze(files, cache, read_diags, max_file_size, reuse=parsed)
    return Analysis(len(files) + len(read_diags), analysis.resources, analysis.diagnostics)


def file_results(
    files: Sequence[SourceFile], cache: FileCache | None, workers: int | None = None
) -> dict[str, tuple[list[Resource], list[Diagnostic]]]:
    """Load and per-resource rules of each of ``files`` (from the cache when it has them;
    many to parse are spread over ``workers`` processes): ``path -> (resources, diagnostics)``."""
    with collector_paused():
        uncached = [f for f in files if cache is None or f.digest not in cache]
        parsed = _parse_in_parallel(uncached, cache, workers)
        return {f.path: parsed.get((f.path, f.digest)) or _analyze_file(f, cache) for f in files}


def cached_resources(path: str, entry: CachedFile) -> list[Resource]:
    """The resources of a cache entry, as the file at ``path`` gives them."""
    return _from_cache(path, entry)


PARALLEL_MIN_FILES = 2000
"""Below this many files to parse, a worker costs more than it saves: with the fast YAML path
(about 0.1 ms of parsing and per-resource rules per file) a worker shortens the main
process's CPU by 15 % at 1,000 files for 50 % more CPU in all (forking, copy-on-write pages,
the pool, results crossing a pipe), by 20-25 % from 2,000 files on (BENCHMARKS.md,
"Validation, cold, third pass")."""


def _parse_in_parallel(
    files: Sequence[SourceFile], cache: FileCache | None, workers: int | None
) -> FileResults:
    """Per-file results of ``files`` (load + per-resource rules), the parsing spread over
    ``workers`` processes: this process parses one share, forked workers the others and
    send back their results in the cache's own plain-tuple form (``marshal``), which is
    what a warm run reads too, so results and diagnostics are the same as parsed here.
    Empty when there are too few files or one free CPU (the caller then parses them itself).
    By default, one process per CPU that is free: a worker on a CPU that other work keeps
    busy only adds its cost (BENCHMARKS.md, "Validation, cold, third pass")."""
    count = workers if workers is not None else _free_cpus(_usable_cpus())
    count = min(count, len(files) // (PARALLEL_MIN_FILES // 2) or 1)
    if count < 2 or len(files) < PARALLEL_MIN_FILES or not _can_fork():
        return {}
    import multiprocessing  # only for a cold run of a large repository

    shares = [list(files[i::count]) for i in range(count)]
    context = multiprocessing.get_context("fork")
    results: FileResults = {}
    with context.Pool(count - 1) as pool:
        pending = pool.map_async(_parse_share, shares[1:])
        for file in shares[0]:
            results[(file.path, file.digest)] = _analyze_file(file, cache)
        answers = pending.get()
    for share, blob in zip(shares[1:], answers, strict=True):
        for file, encoded in zip(share, marshal.loads(blob), strict=True):
            if encoded is None:  # undecodable: parsed here, where it reports itself
                continue
            entry = decode_cached(encoded)
            if cache is not None:
                cache.put(file.digest, entry)
            results[(file.path, file.digest)] = (
                _from_cache(file.path, entry),
                _relocated(file.path, entry.diagnostics),
            )
    return results


def _parse_share(files: list[SourceFile]) -> bytes:
    """In a worker: each file's cache entry as plain tuples (None when it has no text)."""
    out: list[object] = []
    for file in files:
        entry = _file_entry(file)
        out.append(encode_cached(entry) if entry is not None else None)
    return marshal.dumps(out)


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _free_cpus(usable: int) -> int:
    """CPUs among ``usable`` that the last minute's load leaves free, at least one. With
    other runnable work, a worker's share of a busy CPU makes the pass slower, not faster."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # not Unix, or not known
        return usable
    return max(1, min(usable, int(usable - load + 0.5)))


def _can_fork() -> bool:
    """Forking is safe only with one thread (a server's threads hold locks)."""
    return hasattr(os, "fork") and threading.active_count() == 1


def _file_entry(file: SourceFile) -> CachedFile | None:
    """Load and per-resource rules of one file, as a cache entry (None: no text)."""
    loaded, diags = _load_and_check(file)
    return _entry(loaded, diags, file.data) if loaded.text is not None else None


def _load_and_check(file: SourceFile) -> tuple[LoadedFile, list[Diagnostic]]:
    loaded = load_file(file)
    diags = list(loaded.diagnostics)
    # jsonpb's reading of the protobuf kinds: what the rules check and the compiler reads
    loaded.resources = [canonical(r) for r in loaded.resources]
    for resource in loaded.resources:
        diags.extend(check_resource(resource))
    return loaded, diags


def _entry(loaded: LoadedFile, diags: list[Diagnostic], data: bytes) -> CachedFile:
    return CachedFile(
        resources=tuple(
            # the same (read-only) dict as the resource's, not a copy: a server keeps both
            CachedResource(r.kind, r.name, r.mesh, _plain(r.data), r.doc_index, r.position)
            for r in loaded.resources
        ),
        diagnostics=tuple(diags),
        text=data,  # the file's bytes, which the source holds anyway, not a decoded copy
    )


def _plain(data: Mapping[str, Any]) -> dict[str, Any]:
    return data if type(data) is dict else dict(data)


def _analyze_file(
    file: SourceFile, cache: FileCache | None
) -> tuple[list[Resource], list[Diagnostic]]:
    digest = file.digest
    hit = cache.get(digest) if cache is not None else None
    if hit is not None and hit.text is not None:
        return _from_cache(file.path, hit), _relocated(file.path, hit.diagnostics)
    loaded, diags = _load_and_check(file)
    if loaded.text is None:
        return loaded.resources, diags
    if cache is not None:
        cache.put(digest, _entry(loaded, diags, file.data))
    # The resources outlive this pass (a server keeps them across revisions): keep the
    # file's bytes (the source's own object), not the YAML node graph with a mark per node
    # (about 10x the text in memory) nor a decoded copy; a later position (a
    # cross-resource diagnostic) decodes and composes the text again.
    data = file.data
    return [_without_nodes(r, data) for r in loaded.resources], diags


def _without_nodes(resource: Resource, data: bytes) -> Resource:
    """``resource`` with a locator holding the file's bytes only (nodes composed again
    when a position is asked for; the fast YAML path's locator, nodes not composed, is
    kept and given the bytes instead of its text)."""
    locator = resource.locator
    if isinstance(locator, LazyLocator) and not locator.composed:
        locator.text = data
        return resource
    return replace(resource, locator=lazy_locator(data, resource.doc_index))


def _from_cache(path: str, hit: CachedFile) -> list[Resource]:
    assert hit.text is not None
    return [
        Resource(
            kind=r.kind,
            name=r.name,
            mesh=r.mesh,
            data=r.data,
            file=path,
            doc_index=r.doc_index,
            position=r.position,
            locator=lazy_locator(hit.text, r.doc_index),
            flat=r.kind in FLAT_KINDS,
        )
        for r in hit.resources
    ]


def _relocated(path: str, diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Cached diagnostics carry the path the content had then; give them today's path."""
    return [d if d.file == path else replace(d, file=path) for d in diags]


def compile_analysis(analysis: Analysis, compiler: Compiler | None = None) -> CompileResult:
    """Compile the valid resources of ``analysis`` into per-proxy Envoy configuration.

    Resources with an error diagnostic are left out (a partial compile, for reading only).
    Pass the same ``compiler`` for successive revisions to recompile only affected proxies.
    RC5xx diagnostics (a proxy that failed, policy parts not applied) are in the result.
    """
    from reconciler.compile.compiler import Compiler as _Compiler  # not for `validate`

    with collector_paused():
        return (compiler or _Compiler()).compile(compilable(analysis))


def compilable(analysis: Analysis) -> list[Resource]:
    """The resources of ``analysis`` that compile uses: those without an error."""
    invalid = {d.resource for d in only_errors(analysis.diagnostics) if d.resource}
    if not invalid:  # the usual case: no key to compute per resource
        return list(analysis.resources)
    return [r for r in analysis.resources if r.key not in invalid]


# The sides a comparison reads (`reconciler.comparison`): a directory or a commit.


@dataclass(frozen=True, slots=True)
class Side:
    """One revision's files, as read: ``label`` is a commit sha or a directory."""

    label: str
    files: tuple[SourceFile, ...]
    read_diagnostics: tuple[Diagnostic, ...] = ()


def read_directory(path: str, max_file_size: int = DEFAULT_MAX_FILE_SIZE) -> Side:
    files, diags = read_paths([path], max_file_size=max_file_size)
    return Side(path, tuple(files), tuple(diags))


def read_commit(repo: str, rev: str, subpath: str | None) -> Side:
    """Files of ``rev``, with paths relative to the repository root (as a reviewer sees them)."""
    from reconciler.source.git import read_local_commit  # git only when a commit is asked for

    commit = read_local_commit(os.path.abspath(repo), rev, subpath)
    return Side(commit.sha[:12], tuple(commit.files), tuple(commit.diagnostics))
