"""``reconciler inspect PATH --proxy MESH.NAME``: why a proxy gets each value (provenance)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import Any

from reconciler.cli.exit_codes import Exit
from reconciler.compile.mtls import explain_permissions
from reconciler.compile.provenance import proxy_provenance
from reconciler.diagnostics import only_errors
from reconciler.errors import UsageError
from reconciler.model import DEFAULT_MESH, Kind
from reconciler.names import node_id
from reconciler.pipeline import analyze_paths, compile_analysis


@dataclass(frozen=True, slots=True)
class InspectOptions:
    paths: tuple[str, ...]
    proxy: str
    format: str = "text"
    source: str | None = None
    """``SERVICE[,tag=value...]``: also explain which MeshTrafficPermission decides for it."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="*", default=["."], metavar="PATH", help="mesh repository (default: .)"
    )
    parser.add_argument("--proxy", required=True, metavar="MESH.NAME", help="the proxy (node id)")
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )
    parser.add_argument(
        "--source",
        metavar="SERVICE[,TAG=VALUE...]",
        help="explain which MeshTrafficPermission decides for calls from this service",
    )


def run(args: argparse.Namespace) -> int:
    output, code = inspect(InspectOptions(tuple(args.paths), args.proxy, args.format, args.source))
    sys.stdout.write(output)
    return code


def inspect(options: InspectOptions) -> tuple[str, int]:
    analysis = analyze_paths(options.paths)
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
    if options.source:
        data["permissions"] = explain_permissions(
            analysis.resources, options.proxy, _source_tags(options.source)
        )
    if options.format == "json":
        return json.dumps(data, indent=2) + "\n", Exit.OK
    return format_text(data) + _permissions_text(data.get("permissions"), options.source), Exit.OK


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
        for value in block["values"]:
            sources = "; ".join(f"{o['policy']} {o['field']} at {o['at']}" for o in value["from"])
            lines.append(f"{indent}  {value['field']} = {json.dumps(value['value'])}  <- {sources}")


def format_text(data: dict[str, Any]) -> str:
    lines = [f"proxy {data['proxy']} (Dataplane at {data['dataplane']['at']})", ""]
    lines.append("policies selecting this proxy (merge order, least specific first):")
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
    if data["skipped"]:
        lines += ["", "not applied:"]
        lines += [f"  {s}" for s in data["skipped"]]
    return "\n".join(lines) + "\n"
