"""``reconciler inspect PATH --proxy MESH.NAME``: why a proxy gets each value (provenance)."""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.cli.colour import write
from reconciler.cli.exit_codes import Exit
from reconciler.cli.inspect_policy import PolicyOptions, inspect_policy
from reconciler.cli.offline import Revision, add_revision_arguments, read, revision_of
from reconciler.compile.mtls import explain_permissions
from reconciler.compile.provenance import proxy_provenance
from reconciler.diagnostics import only_errors
from reconciler.errors import UsageError
from reconciler.model import DEFAULT_MESH, Kind, Resource
from reconciler.names import node_id
from reconciler.pipeline import compile_analysis
from reconciler.targetref import inbound_tags, inbounds


@dataclass(frozen=True, slots=True)
class InspectOptions:
    paths: tuple[str, ...]
    proxy: str
    format: str = "text"
    source: str | None = None
    """``SERVICE[,tag=value...]``: also explain which MeshTrafficPermission decides for it."""
    revision: Revision | None = None
    """Where to read (a commit with ``--repo``); None: ``paths``."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.usage = (
        "reconciler inspect [PATH ...] --proxy MESH.NAME [--source SERVICE[,TAG=VALUE...]]\n"
        "       reconciler inspect policy KIND NAME [PATH ...] [--mesh MESH]\n"
        "       (either form: --repo DIR [--rev REV] [--path SUBDIR] instead of PATH; "
        "-o text|json)"
    )
    parser.add_argument(
        "paths",
        nargs="*",
        default=[],
        metavar="PATH",
        help="mesh repository (default: .); `policy KIND NAME [PATH ...]` inspects a policy",
    )
    parser.add_argument("--proxy", metavar="MESH.NAME", help="the proxy (node id)")
    parser.add_argument("--mesh", metavar="MESH", help="with `policy`: the policy's mesh")
    add_revision_arguments(parser)
    parser.add_argument(
        "-o",
        "--format",
        choices=("text", "json"),
        default="text",
        help="output format (default: text)",
    )
    parser.add_argument(
        "--source",
        metavar="SERVICE[,TAG=VALUE...]",
        help="explain which MeshTrafficPermission decides for calls from this service",
    )


def run(args: argparse.Namespace) -> int:
    paths = list(args.paths)
    if args.proxy is None and paths[:1] == ["policy"]:
        if len(paths) < 3:
            raise UsageError("inspect policy needs KIND NAME, e.g. inspect policy MeshTimeout t")
        options = PolicyOptions(
            paths[1], paths[2], revision_of(args, paths[3:]), args.mesh, args.format
        )
        output, code = inspect_policy(options)
    else:
        if args.proxy is None:
            raise UsageError(
                "give --proxy MESH.NAME, or `policy KIND NAME`",
                hint="e.g. inspect --proxy default.web-1, inspect policy MeshTimeout payments",
            )
        revision = revision_of(args, paths)
        output, code = inspect(
            InspectOptions(revision.paths, args.proxy, args.format, args.source, revision)
        )
    write(sys.stdout, output, plain=args.format != "text")
    return code


def inspect(options: InspectOptions) -> tuple[str, int]:
    analysis = read(options.revision or Revision(options.paths))
    errors = only_errors(analysis.diagnostics)
    if errors:
        text = "".join(d.format_text() + "\n" for d in errors)
        return text + "inspect: fix the errors above first\n", Exit.FINDINGS
    result = compile_analysis(analysis)
    trace = result.traces.get(options.proxy)
    if trace is None:
        known = ", ".join(sorted(result.traces)) or "none"
        raise UsageError(
            f"no proxy {options.proxy!r} in {' '.join(options.paths)} (proxies: {known})"
        )
    dataplane = next(
        r
        for r in analysis.resources
        if r.kind == Kind.DATAPLANE and node_id(r.mesh or DEFAULT_MESH, r.name) == options.proxy
    )
    data = proxy_provenance(trace, dataplane)
    warning = None
    if options.source:
        tags = _source_tags(options.source)
        data["permissions"] = explain_permissions(analysis.resources, options.proxy, tags)
        warning = unknown_source(analysis.resources, dataplane.mesh or DEFAULT_MESH, tags)
        if warning:
            data["sourceWarning"] = warning
    if options.format == "json":
        return json.dumps(data, indent=2) + "\n", Exit.OK
    text = format_text(data) + _permissions_text(data.get("permissions"), options.source)
    return text + (f"warning: {warning}\n" if warning else ""), Exit.OK


def unknown_source(resources: Sequence[Resource], mesh: str, tags: dict[str, str]) -> str | None:
    """Why ``--source`` names no caller of ``mesh`` (a typo answers "denied"), or None."""
    service = tags["kuma.io/service"]
    provided = sorted(
        {
            str(inbound_tags(ib).get("kuma.io/service"))
            for r in resources
            if r.kind == "Dataplane" and (r.mesh or DEFAULT_MESH) == mesh
            for ib in inbounds(r)
            if inbound_tags(ib).get("kuma.io/service")
        }
    )
    if service in provided:
        return None
    close = difflib.get_close_matches(service, provided, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return (
        f"--source {service!r}: no Dataplane of mesh {mesh} provides this service, so no proxy "
        f"makes such calls; {hint}services: {', '.join(provided) or 'none'}"
    )


def _source_tags(text: str) -> dict[str, str]:
    service, *pairs = [p.strip() for p in text.split(",")]
    tags = {"kuma.io/service": service}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not (key and eq and value) or not service:
            raise UsageError(f"--source {text!r} is not SERVICE[,TAG=VALUE...]")
        tags[key] = value
    return tags


def _permissions_text(permissions: list[dict[str, Any]] | None, source: str | None) -> str:
    if permissions is None:
        return ""
    lines = [f"MeshTrafficPermission for calls from {source}:"]
    for p in permissions:
        by = f" by {p['decidedBy']} ({p['at']})" if p.get("decidedBy") else ""
        lines.append(f"  {p['inbound']}: {p['action']}{by}: {p['reason']}")
    return "\n".join(lines) + "\n"


def _refs(refs: list[dict[str, Any]]) -> str:
    return ", ".join(f"{r['name']} ({r['at']})" for r in refs) or "none"


def _policies(lines: list[str], blocks: list[dict[str, Any]], indent: str) -> None:
    for block in blocks:
        lines.append(f"{indent}{block['kind']}: merged in order: {_refs(block['policies'])}")
        if "notApplied" in block:
            ignored = ", ".join(f"{s}.*" for s in block["notApplied"]["sections"])
            lines.append(f"{indent}  ({ignored}: not applied to {block['notApplied']['protocol']})")
        for value in block["values"]:
            sources = "; ".join(f"{o['policy']} {o['field']} at {o['at']}" for o in value["from"])
            lines.append(f"{indent}  {value['field']} = {json.dumps(value['value'])}  <- {sources}")


def format_text(data: dict[str, Any]) -> str:
    lines = [f"proxy {data['proxy']} (Dataplane at {data['dataplane']['at']})", ""]
    lines.append(
        "policies selecting this proxy (by name; each place below lists the ones that apply "
        "there in merge order, least specific first):"
    )
    for kind, refs in data["selected"].items():
        lines.append(f"  {kind}: {_refs(refs)}")
    for ib in data["inbounds"]:
        lines += [
            "",
            f"inbound {ib['listener']} ({ib['service']}, {ib['protocol']}) -> {ib['cluster']}",
        ]
        _policies(lines, ib["policies"], "  ")
    for ob in data["outbounds"]:
        lines += ["", f"outbound {ob['listener']} -> {ob['service']} ({ob['protocol']})"]
        if "destination" in ob:
            d = ob["destination"]
            names = ", ".join(d["hostnames"]) or "none"
            lines.append(
                f"  {d['kind']} {d['name']} port {d['port']} (sectionName {d['sectionName']}) "
                f"at {d['at']}; hostnames: {names}"
            )
        _policies(lines, ob["policies"], "  ")
        if "tcpRoute" in ob:
            _policies(lines, [ob["tcpRoute"]], "  ")
        for route in ob["routes"]:
            lines.append(
                f"  route {route['name']} match {json.dumps(route['match'], sort_keys=True)}"
            )
            if isinstance(route["rule"], str):
                lines.append(f"    {route['rule']}")
            else:
                _policies(lines, [route["rule"]], "    ")
        for cluster in ob["clusters"]:
            lines.append(f"  cluster {cluster['name']}")
            _policies(lines, cluster["policies"], "    ")
    if data.get("proxyWide"):
        lines += ["", "proxy-wide (top-level default):"]
        _policies(lines, data["proxyWide"], "  ")
    if data.get("patches"):
        lines += ["", "MeshProxyPatch modifications (applied last, in this order):"]
        lines += [
            f"  {p['type']} {p['name']} {p['action']} by {p['policy']} {p['modification']} "
            f"at {p['at']}"
            for p in data["patches"]
        ]
    if data["skipped"]:
        lines += ["", "not applied:"]
        lines += [f"  {s}" for s in data["skipped"]]
    return "\n".join(lines) + "\n"
