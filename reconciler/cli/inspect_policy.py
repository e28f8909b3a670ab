"""``reconciler inspect policy KIND NAME``: which proxies a policy selects and what it changes
on each (kumactl's ``inspect <policy>``, offline).

For each selected proxy: the places (inbound, outbound, route, cluster) where the policy is
merged, with the effective values it sets there; then the Envoy resources that differ between
the revision as it is and the same revision without the policy (compiled twice, the second
time incrementally), field by field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from reconciler.cli.exit_codes import Exit
from reconciler.cli.offline import Revision, read, resolve_kind
from reconciler.compile.compiler import Compiler
from reconciler.compile.provenance import policy_ref, proxy_provenance
from reconciler.diagnostics import Severity
from reconciler.diff import Action, ProxyChange, ResourceChange, diff_proxy
from reconciler.errors import UsageError
from reconciler.kinds import POLICY_KINDS
from reconciler.model import DEFAULT_MESH, Resource
from reconciler.pipeline import Analysis, compile_analysis
from reconciler.report.diff_text import proxy_lines


@dataclass(frozen=True, slots=True)
class PolicyOptions:
    kind: str
    name: str
    revision: Revision = field(default_factory=Revision)
    mesh: str | None = None
    format: str = "text"


def inspect_policy(options: PolicyOptions) -> tuple[str, int]:
    """The report and the exit code, without printing (tests call this directly)."""
    kind = resolve_kind(options.kind)
    if kind not in POLICY_KINDS:
        raise UsageError(
            f"{kind} is not a policy", hint="for a proxy: reconciler inspect --proxy MESH.NAME"
        )
    analysis = read(options.revision)
    errors = [d for d in analysis.diagnostics if d.severity is Severity.ERROR]
    if errors:
        text = "".join(d.format_text() + "\n" for d in errors)
        return text + "inspect: fix the errors above first\n", Exit.FINDINGS
    policy = _find(analysis, kind, options.name, options.mesh)
    compiler = Compiler()
    with_it = compile_analysis(analysis, compiler)
    without = Analysis(
        analysis.files,
        tuple(r for r in analysis.resources if r.key != policy.key),
        analysis.diagnostics,
    )
    without_it = compile_analysis(without, compiler)
    dataplanes = {
        f"{r.mesh or DEFAULT_MESH}.{r.name}": r for r in analysis.resources if r.kind == "Dataplane"
    }
    proxies = []
    for node in sorted(with_it.traces):
        trace = with_it.traces[node]
        if not any(p.key == policy.key for p in trace.selected.get(kind, ())):
            continue
        provenance = proxy_provenance(trace, dataplanes[node])
        changes = diff_proxy(without_it.configs.get(node), with_it.configs.get(node))
        proxies.append(Effect(node, _places(provenance, kind, policy.name), tuple(changes)))
    data = {
        "policy": policy_ref(policy),
        "mesh": policy.mesh or DEFAULT_MESH,
        "proxies": [p.to_json() for p in proxies],
    }
    if options.format == "json":
        return json.dumps(data, indent=2) + "\n", Exit.OK
    return _text(data, proxies), Exit.OK


@dataclass(frozen=True, slots=True)
class Effect:
    """What one policy does on one proxy it selects."""

    proxy: str
    places: list[dict[str, Any]]
    """Where it is merged, and the effective values it sets there."""
    changes: tuple[ResourceChange, ...]
    """The Envoy resources that differ from the same revision without it."""

    def to_json(self) -> dict[str, Any]:
        return {
            "proxy": self.proxy,
            "places": self.places,
            "changes": [c.to_json() for c in self.changes],
        }


def _find(analysis: Analysis, kind: str, name: str, mesh: str | None) -> Resource:
    same_kind = [r for r in analysis.resources if r.kind == kind]
    found = [
        r
        for r in same_kind
        if r.name == name and (mesh is None or (r.mesh or DEFAULT_MESH) == mesh)
    ]
    if not found:
        names = ", ".join(sorted({r.name for r in same_kind})) or "none"
        raise UsageError(
            f"no {kind} {name!r}" + (f" in mesh {mesh}" if mesh else ""),
            hint=f"{kind} names: {names} (Kuma's initial default policies are not resources: "
            "see them with inspect --proxy)",
        )
    if len(found) > 1:
        meshes = ", ".join(sorted(r.mesh or DEFAULT_MESH for r in found))
        raise UsageError(f"{kind} {name!r} exists in meshes {meshes}", hint="add --mesh MESH")
    return found[0]


def _places(provenance: dict[str, Any], kind: str, name: str) -> list[dict[str, Any]]:
    """Where ``name`` is merged on this proxy, and the effective values it sets there."""
    blocks: list[tuple[str, dict[str, Any]]] = []
    for ib in provenance["inbounds"]:
        label = f"inbound {ib['listener']} ({ib['service']}, {ib['protocol']})"
        blocks += [(label, b) for b in ib["policies"]]
    for ob in provenance["outbounds"]:
        label = f"outbound {ob['listener']} -> {ob['service']} ({ob['protocol']})"
        blocks += [(label, b) for b in ob["policies"]]
        if "tcpRoute" in ob:
            blocks.append((label, ob["tcpRoute"]))
        for route in ob["routes"]:
            if isinstance(route["rule"], dict):
                blocks.append((f"{label} route {route['name']}", route["rule"]))
        for cluster in ob["clusters"]:
            blocks += [(f"{label} cluster {cluster['name']}", b) for b in cluster["policies"]]
    places = []
    for label, block in blocks:
        if block["kind"] != kind or not any(p["name"] == name for p in block["policies"]):
            continue
        values = [
            {"field": v["field"], "value": v["value"]}
            for v in block["values"]
            if any(o["policy"] == name for o in v["from"])
        ]
        places.append(
            {
                "place": label,
                "mergedWith": [p["name"] for p in block["policies"]],
                "values": values,
            }
        )
    return places


def _text(data: dict[str, Any], proxies: list[Effect]) -> str:
    ref = data["policy"]
    changed = sum(1 for p in proxies if p.changes)
    lines = [
        f"{ref['kind']} {data['mesh']}/{ref['name']} ({ref['at']})",
        f"selects {len(proxies)} prox{'y' if len(proxies) == 1 else 'ies'}; changes the Envoy "
        f"configuration of {changed}",
    ]
    for proxy in proxies:
        lines += ["", proxy.proxy]
        for place in proxy.places:
            order = ", ".join(place["mergedWith"])
            lines.append(f"  {place['place']} (merge order: {order})")
            lines += [f"    {v['field']} = {json.dumps(v['value'])}" for v in place["values"]]
            if not place["values"]:
                lines.append("    (every value it sets here is overridden by a later policy)")
        if not proxy.places:
            lines.append("  selected, but no inbound or outbound of this proxy takes its values")
            continue
        if proxy.changes:
            lines.append("  Envoy resources it changes:")
            lines += proxy_lines(ProxyChange(proxy.proxy, Action.CONFIGURED, proxy.changes), "    ")
        else:
            lines.append("  no Envoy resource changes: without it, the same values apply")
    return "\n".join(lines) + "\n"
