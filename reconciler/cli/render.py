"""``reconciler render PATH``: the Envoy resources each proxy would receive."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler import codes
from reconciler.cli.colour import write
from reconciler.cli.exit_codes import Exit
from reconciler.compile.bootstrap import static_bootstrap
from reconciler.compile.render_dict import message_dict, proxy_dict
from reconciler.diagnostics import Diagnostic, has_errors, only_errors
from reconciler.errors import UsageError
from reconciler.identity.serving import proxy_identities
from reconciler.pipeline import analyze_paths, compile_analysis
from reconciler.report.yaml_documents import dump_yaml
from reconciler.resource_types import TypeUrl

FORMATS = ("yaml", "json", "bootstrap")
_SUFFIX = {"yaml": ".yaml", "json": ".json", "bootstrap": ".bootstrap.json"}


@dataclass(frozen=True, slots=True)
class RenderOptions:
    paths: tuple[str, ...]
    proxy: str | None = None
    format: str = "yaml"
    out: Path | None = None


@dataclass(frozen=True, slots=True)
class Rendered:
    stdout: str
    stderr: str
    code: int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="*", default=["."], metavar="PATH", help="mesh repository (default: .)"
    )
    parser.add_argument("--proxy", metavar="MESH.NAME", help="only this proxy (node id)")
    parser.add_argument(
        "-o",
        "--format",
        choices=FORMATS,
        default="yaml",
        help="yaml/json: resources grouped by type; bootstrap: a static Envoy bootstrap "
        "(for `envoy --mode validate -c FILE`) (default: yaml)",
    )
    parser.add_argument("--out", type=Path, metavar="DIR", help="write one file per proxy into DIR")


def run(args: argparse.Namespace) -> int:
    options = RenderOptions(tuple(args.paths), args.proxy, args.format, args.out)
    result = render(options)
    write(sys.stderr, result.stderr)
    sys.stdout.write(result.stdout)
    return result.code


def render(options: RenderOptions) -> Rendered:
    """Render without printing (tests call this directly)."""
    analysis = analyze_paths(options.paths)
    errors = only_errors(analysis.diagnostics)
    if errors:
        return Rendered("", _text(errors) + "render: fix the errors above first\n", Exit.FINDINGS)
    result = compile_analysis(analysis)
    # what the repository declares but the compiler ignores (RC320: kinds and fields Kuma
    # applies and the reconciler does not yet), then what compiling found
    ignored = [d for d in analysis.diagnostics if d.code == codes.NOT_APPLIED]
    stderr = _text([*ignored, *result.diagnostics])
    configs = result.configs
    if options.proxy is not None:
        if options.proxy not in configs:
            known = ", ".join(sorted(configs)) or "none"
            raise UsageError(
                f"no proxy {options.proxy!r} in {' '.join(options.paths)} (proxies: {known})"
            )
        configs = {options.proxy: configs[options.proxy]}
    code = Exit.FINDINGS if has_errors(result.diagnostics) else Exit.OK
    identities = proxy_identities(analysis.resources)
    documents: dict[str, Any] = {}
    for node in sorted(configs):
        config = configs[node]
        if options.format == "bootstrap":
            documents[node] = message_dict(static_bootstrap(config))
            continue
        documents[node] = proxy_dict(config)
        if node in identities and not config.of(TypeUrl.SECRET):
            documents[node]["notes"].append(certificates_note(node))
    if options.out is not None:
        options.out.mkdir(parents=True, exist_ok=True)
        lines = []
        for node, doc in documents.items():
            target = options.out / f"{node}{_SUFFIX[options.format]}"
            target.write_text(
                dump_yaml([doc])
                if options.format == "yaml"
                else json.dumps(doc, indent=2, sort_keys=True) + "\n"
            )
            lines.append(f"wrote {target}")
        return Rendered("\n".join(lines) + "\n" if lines else "", stderr, code)
    if options.format == "yaml":
        return Rendered(dump_yaml(list(documents.values())), stderr, code)
    if options.format == "json":
        return Rendered(
            json.dumps(list(documents.values()), indent=2, sort_keys=True) + "\n", stderr, code
        )
    if len(documents) != 1:
        raise UsageError(
            "--format bootstrap prints one proxy: add --proxy MESH.NAME, or --out DIR for all"
        )
    return Rendered(
        json.dumps(next(iter(documents.values())), indent=2, sort_keys=True) + "\n", stderr, code
    )


def certificates_note(node: str) -> str:
    """Why an mTLS proxy's ``secrets`` are empty in a render."""
    mesh = node.partition(".")[0]
    return (
        f"mesh {mesh} has mTLS: its certificates (SDS secrets identity_cert:secret:{mesh} and "
        f"mesh_ca:secret:{mesh}) are issued by `reconciler serve` from the mesh CA in its "
        "state dir, not by render"
    )


def _text(diags: Sequence[Diagnostic]) -> str:
    return "".join(d.format_text() + "\n" for d in diags)
