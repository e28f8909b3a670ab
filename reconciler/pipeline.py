"""The one place that knows the order of the stages.

source files -> load -> validate (per resource, cached per file) -> validate (cross-resource)
-> compile -> snapshot. Commands and the serving loop call these functions; they never chain
stages themselves.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.cache import CachedFile, CachedResource, FileCache
from reconciler.diagnostics import Diagnostic, sorted_diagnostics
from reconciler.load import (
    DEFAULT_MAX_FILE_SIZE,
    SourceFile,
    discover,
    lazy_locator,
    load_file,
    read_files,
    too_large,
)
from reconciler.model import Resource
from reconciler.validate import check_mesh, check_resource

if TYPE_CHECKING:
    from reconciler.compile import Compiler, CompileResult


@dataclass(frozen=True, slots=True)
class Analysis:
    """A source revision after load and validation: what compile may use, and every problem."""

    files: int
    resources: tuple[Resource, ...]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)


def read_paths(
    paths: Sequence[str | os.PathLike[str]], *, max_file_size: int = DEFAULT_MAX_FILE_SIZE
) -> tuple[list[SourceFile], list[Diagnostic]]:
    """Files under ``paths`` (usage error if a path does not exist)."""
    return read_files(discover(paths), max_size=max_file_size)


def analyze(
    files: Iterable[SourceFile],
    *,
    cache: FileCache | None = None,
    extra: Iterable[Diagnostic] = (),
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
) -> Analysis:
    """Load and validate ``files`` as one revision; all problems at once, sorted."""
    with _collector_paused():
        return _analyze(files, cache, extra, max_file_size)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Loading builds hundreds of thousands of small acyclic objects; Python's cyclic garbage
    collector would scan them again and again (about 40 % of a cold run). Pause it for the
    pass and let it run once afterwards."""
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
) -> Analysis:
    diagnostics: list[Diagnostic] = list(extra)
    resources: list[Resource] = []
    count = 0
    for file in files:
        count += 1
        if len(file.data) > max_file_size:
            diagnostics.append(too_large(file.path, len(file.data), max_file_size))
            continue
        file_resources, file_diags = _analyze_file(file, cache)
        resources.extend(file_resources)
        diagnostics.extend(file_diags)
    diagnostics.extend(check_mesh(resources))
    if cache is not None:
        cache.save()
    return Analysis(count, tuple(resources), tuple(sorted_diagnostics(diagnostics)))


def analyze_paths(
    paths: Sequence[str | os.PathLike[str]],
    *,
    cache_dir: Path | None = None,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
) -> Analysis:
    files, read_diags = read_paths(paths, max_file_size=max_file_size)
    cache = FileCache(cache_dir) if cache_dir is not None else None
    analysis = analyze(files, cache=cache, extra=read_diags, max_file_size=max_file_size)
    return Analysis(len(files) + len(read_diags), analysis.resources, analysis.diagnostics)


def _analyze_file(
    file: SourceFile, cache: FileCache | None
) -> tuple[list[Resource], list[Diagnostic]]:
    digest = file.digest
    hit = cache.get(digest) if cache is not None else None
    if hit is not None and hit.text is not None:
        return _from_cache(file.path, hit), _relocated(file.path, hit.diagnostics)
    loaded = load_file(file)
    diags = list(loaded.diagnostics)
    for resource in loaded.resources:
        diags.extend(check_resource(resource))
    if cache is not None and loaded.text is not None:
        cache.put(
            digest,
            CachedFile(
                resources=tuple(
                    CachedResource(r.kind, r.name, r.mesh, dict(r.data), r.doc_index, r.position)
                    for r in loaded.resources
                ),
                diagnostics=tuple(diags),
                text=loaded.text,
            ),
        )
    return loaded.resources, diags


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
        )
        for r in hit.resources
    ]


def _relocated(path: str, diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Cached diagnostics carry the path the content had then; give them today's path."""
    from dataclasses import replace

    return [d if d.file == path else replace(d, file=path) for d in diags]


def compile_analysis(analysis: Analysis, compiler: Compiler | None = None) -> CompileResult:
    """Compile the valid resources of ``analysis`` into per-proxy Envoy configuration.

    Resources with an error diagnostic are left out (a partial compile, for reading only).
    Pass the same ``compiler`` for successive revisions to recompile only affected proxies.
    RC5xx diagnostics (a proxy that failed, policy parts not applied) are in the result.
    """
    from reconciler.compile import Compiler as _Compiler

    invalid = {d.resource for d in analysis.diagnostics if d.severity == "error" and d.resource}
    valid = [r for r in analysis.resources if r.key not in invalid]
    return (compiler or _Compiler()).compile(valid)
