"""Stage ``load``: files -> resources with file:line:col marks.

Input: :class:`SourceFile` objects (path + bytes) from a directory or a git commit.
Output: :class:`Resource` objects and diagnostics. It never raises for bad input: invalid
YAML, duplicate keys, tabs, bad encodings, empty or non-mapping documents, a missing or
unknown ``type`` or ``name``, alias bombs and deep nesting all become diagnostics.
It does not know the kinds' schemas (that is ``validate``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from reconciler.diagnostics import Diagnostic
from reconciler.load.files import (
    DEFAULT_MAX_FILE_SIZE,
    SourceFile,
    decode,
    discover,
    is_resource_path,
    read_files,
    too_large,
)
from reconciler.model import Resource

if TYPE_CHECKING:  # the YAML parser is imported on first use: listing files needs none
    from reconciler.load.yaml_documents import LazyLocator, lazy_locator

__all__ = [
    "DEFAULT_MAX_FILE_SIZE",
    "LazyLocator",
    "LoadedFile",
    "SourceFile",
    "discover",
    "is_resource_path",
    "lazy_locator",
    "load_file",
    "read_files",
    "too_large",
]


@dataclass(slots=True)
class LoadedFile:
    path: str
    digest: str
    text: str | None
    resources: list[Resource] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def load_file(file: SourceFile, *, fast: bool = True) -> LoadedFile:
    """Parse one file into resources; every problem is a diagnostic.

    A plain file takes the fast path (:mod:`yaml_fast`: the same documents, positions from a
    lazy locator); any other, every file with a YAML problem, and every file when ``fast`` is
    false, is parsed by libyaml."""
    documents, resources, yaml_fast = _parsing()
    text, problem = decode(file)
    loaded = LoadedFile(file.path, file.digest, text)
    if problem is not None or text is None:
        if problem is not None:
            loaded.diagnostics.append(problem)
        return loaded
    plain = yaml_fast.fast_documents(text) if fast else None
    if plain is not None:
        for index, (data, position) in enumerate(plain):
            document = documents.ParsedDocument(index, data, None, position)
            resource, diags = resources.to_resource(
                document, file.path, documents.LazyLocator(text, index)
            )
            loaded.diagnostics.extend(diags)
            if resource is not None:
                loaded.resources.append(resource)
        return loaded
    parsed = documents.parse_text(text, file.path)
    loaded.diagnostics.extend(parsed.diagnostics)
    for doc in parsed.documents:
        resource, diags = resources.to_resource(doc, file.path)
        loaded.diagnostics.extend(diags)
        if resource is not None:
            loaded.resources.append(resource)
    return loaded


@functools.cache
def _parsing() -> tuple[ModuleType, ModuleType, ModuleType]:
    """The YAML parsers and the resource reader, imported on first use."""
    from reconciler.load import resources, yaml_documents, yaml_fast

    return yaml_documents, resources, yaml_fast


def __getattr__(name: str) -> Any:
    if name == "lazy_locator":
        from reconciler.load.yaml_documents import lazy_locator

        return lazy_locator
    if name == "LazyLocator":
        from reconciler.load.yaml_documents import LazyLocator

        return LazyLocator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
