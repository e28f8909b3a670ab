"""Stage ``load``: files -> resources with file:line:col marks.

Input: :class:`SourceFile` objects (path + bytes) from a directory or a git commit.
Output: :class:`Resource` objects and diagnostics. It never raises for bad input: invalid
YAML, duplicate keys, tabs, bad encodings, empty or non-mapping documents, a missing or
unknown ``type`` or ``name``, alias bombs and deep nesting all become diagnostics.
It does not know the kinds' schemas (that is ``validate``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
from reconciler.load.resources import to_resource
from reconciler.load.yaml_documents import LazyLocator, ParsedDocument, lazy_locator, parse_text
from reconciler.load.yaml_fast import fast_documents
from reconciler.model import Resource

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
    text, problem = decode(file)
    loaded = LoadedFile(file.path, file.digest, text)
    if problem is not None or text is None:
        if problem is not None:
            loaded.diagnostics.append(problem)
        return loaded
    documents = fast_documents(text) if fast else None
    if documents is not None:
        for index, (data, position) in enumerate(documents):
            document = ParsedDocument(index, data, None, position)
            resource, diags = to_resource(document, file.path, LazyLocator(text, index))
            loaded.diagnostics.extend(diags)
            if resource is not None:
                loaded.resources.append(resource)
        return loaded
    parsed = parse_text(text, file.path)
    loaded.diagnostics.extend(parsed.diagnostics)
    for doc in parsed.documents:
        resource, diags = to_resource(doc, file.path)
        loaded.diagnostics.extend(diags)
        if resource is not None:
            loaded.resources.append(resource)
    return loaded
