"""``reconciler get KIND [NAME]``: the resources of a kind in a directory or a commit
(kumactl's ``get``, offline): a table, or the documents themselves."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.cli.exit_codes import Exit
from reconciler.cli.offline import (
    Revision,
    add_revision_arguments,
    read,
    resolve_kind,
    revision_of,
)
from reconciler.diagnostics import Severity
from reconciler.errors import UsageError
from reconciler.kinds import FLAT_KINDS
from reconciler.model import DEFAULT_MESH, Kind, Resource
from reconciler.report.yaml_documents import dump_yaml

FORMATS = ("text", "json", "yaml")


@dataclass(frozen=True, slots=True)
class GetOptions:
    kind: str
    name: str | None = None
    revision: Revision = field(default_factory=Revision)
    mesh: str | None = None
    format: str = "text"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", metavar="KIND", help="e.g. MeshTimeout, meshtimeouts, dataplanes")
    parser.add_argument("name", nargs="?", metavar="NAME", help="only this resource")
    parser.add_argument(
        "--dir", dest="paths", action="append", metavar="PATH", help="directory (default: .)"
    )
    add_revision_arguments(parser)
    parser.add_argument("--mesh", metavar="MESH", help="only resources of this mesh")
    parser.add_argument(
        "-o", "--format", choices=FORMATS, default="text", help="output format (default: text)"
    )


def run(args: argparse.Namespace) -> int:
    options = GetOptions(
        kind=args.kind,
        name=args.name,
        revision=revision_of(args, args.paths or []),
        mesh=args.mesh,
        format=args.format,
    )
    output, code, note = get_with_note(options)
    sys.stdout.write(output)
    if note:
        print(note, file=sys.stderr)
    return code


def get(options: GetOptions) -> tuple[str, int]:
    """The output and the exit code, without printing (tests call this directly)."""
    output, code, _ = get_with_note(options)
    return output, code


def get_with_note(options: GetOptions) -> tuple[str, int, str | None]:
    """Also a note for stderr when the revision has errors (what is listed is what loaded)."""
    kind = resolve_kind(options.kind)
    analysis = read(options.revision)
    errors = sum(1 for d in analysis.diagnostics if d.severity is Severity.ERROR)
    note = (
        f"note: this revision has {errors} error{'s' if errors != 1 else ''}; "
        "`reconciler validate` lists them"
        if errors
        else None
    )
    found = [
        r
        for r in analysis.resources
        if r.kind == kind
        and (options.name is None or r.name == options.name)
        and (options.mesh is None or _mesh(r) == options.mesh)
    ]
    found.sort(key=lambda r: (_mesh(r), r.name, r.file, r.doc_index))
    if options.name is not None and not found:
        where = f" in mesh {options.mesh}" if options.mesh else ""
        known = sorted({r.name for r in analysis.resources if r.kind == kind})
        raise UsageError(
            f"no {kind} {options.name!r}{where}",
            hint=f"{kind} names: {', '.join(known) or 'none'}",
        )
    if options.format == "json":
        return json.dumps([_document(r) for r in found], indent=2) + "\n", Exit.OK, note
    if options.format == "yaml" or options.name is not None:
        return dump_yaml([_document(r) for r in found]), Exit.OK, note
    return table(kind, found), Exit.OK, note


def _mesh(resource: Resource) -> str:
    return resource.name if resource.kind == Kind.MESH else (resource.mesh or DEFAULT_MESH)


def _document(resource: Resource) -> dict[str, Any]:
    head: dict[str, Any] = {"type": resource.kind, "name": resource.name}
    if resource.kind != Kind.MESH:
        head["mesh"] = _mesh(resource)
    rest = {k: v for k, v in resource.data.items() if k not in ("type", "name", "mesh")}
    return {**head, **rest}


def _target(resource: Resource) -> str:
    ref = resource.spec.get("targetRef") if resource.kind not in FLAT_KINDS else None
    if not isinstance(ref, dict):
        return "-"
    name = ref.get("name")
    return f"{ref.get('kind', '?')}" + (f" {name}" if name else "")


def table(kind: str, resources: Sequence[Resource]) -> str:
    """kumactl-style columns; the file and line say where each one is defined."""
    header = (
        ["MESH", "NAME", "TARGETREF", "FILE"]
        if kind not in FLAT_KINDS
        else ["MESH", "NAME", "FILE"]
    )
    rows = [header]
    for r in resources:
        where = f"{r.file}:{r.position.line}"
        cells = (
            [_mesh(r), r.name, _target(r), where]
            if kind not in FLAT_KINDS
            else [_mesh(r), r.name, where]
        )
        rows.append(cells)
    if len(rows) == 1:
        return f"no {kind} resources\n"
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n"
        for row in rows
    )
