"""Provenance as plain data: for each place of a proxy, the policies that matched (in merge
order) and, for each effective value, the policy and ``file:line`` that set it.

Answers "why does this proxy have a 2 s timeout?" for ``reconciler inspect``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from reconciler.compile.defaults import is_initial
from reconciler.compile.merge import Merged, Origin
from reconciler.compile.trace import InboundTrace, OutboundTrace, ProxyTrace
from reconciler.model import FieldPath, Resource, format_path


def policy_ref(resource: Resource) -> dict[str, Any]:
    where = (
        f"initial default policy of Mesh {resource.mesh}"
        if is_initial(resource)
        else f"{resource.file}:{resource.position.line}"
    )
    return {"kind": resource.kind, "name": resource.name, "at": where}


def _origin(origin: Origin) -> dict[str, Any]:
    where = (
        f"initial default policy of Mesh {origin.resource.mesh}"
        if is_initial(origin.resource)
        else origin.where()
    )
    return {"policy": origin.resource.name, "field": format_path(origin.path), "at": where}


def leaves(conf: Mapping[str, Any], prefix: FieldPath = ()) -> Iterator[tuple[FieldPath, Any]]:
    """Every effective value: scalars and whole arrays, depth first, keys sorted."""
    for key in sorted(conf):
        value = conf[key]
        path = (*prefix, key)
        if isinstance(value, Mapping) and value:
            yield from leaves(value, path)
        else:
            yield path, value


NOT_APPLIED: Mapping[tuple[str, str], tuple[str, ...]] = {
    ("MeshTimeout", "tcp"): ("http",),
    ("MeshRetry", "tcp"): ("grpc", "http"),
    ("MeshRetry", "http"): ("grpc", "tcp"),
    ("MeshRetry", "http2"): ("grpc", "tcp"),
    ("MeshRetry", "grpc"): ("http", "tcp"),
}
"""(kind, protocol) -> sections of the conf that the compiler does not apply to traffic of
that protocol (a TCP listener has no HTTP timeouts; an HTTP route retries per its protocol)."""


def merged_data(kind: str, merged: Merged, protocol: str | None = None) -> dict[str, Any]:
    skipped = NOT_APPLIED.get((kind, protocol or ""), ())
    data: dict[str, Any] = {
        "kind": kind,
        "policies": [policy_ref(p) for p in merged.policies],
        "values": [
            {
                "field": format_path(path),
                "value": value,
                "from": [_origin(o) for o in merged.origin(*path)],
            }
            for path, value in leaves(merged.conf)
            if str(path[0]) not in skipped
        ],
    }
    ignored = [s for s in skipped if s in merged.conf]
    if ignored:
        data["notApplied"] = {"protocol": protocol, "sections": ignored}
    return data


def _inbound(trace: InboundTrace) -> dict[str, Any]:
    ib = trace.inbound
    return {
        "listener": trace.listener,
        "service": ib.service,
        "protocol": ib.protocol,
        "cluster": trace.cluster,
        "policies": [merged_data(k, m, ib.protocol) for k, m in trace.confs.items()],
    }


def _outbound(trace: OutboundTrace) -> dict[str, Any]:
    routes = []
    for route in trace.routes:
        entry: dict[str, Any] = {"name": route.name, "match": dict(route.match)}
        if route.rule is None:
            entry["rule"] = "implicit default route to the destination service"
        else:
            entry["rule"] = merged_data("MeshHTTPRoute", route.rule.default)
        routes.append(entry)
    data: dict[str, Any] = {
        "listener": trace.listener,
        "service": trace.outbound.service,
        "protocol": trace.protocol,
        "policies": [merged_data(k, m, trace.protocol) for k, m in trace.confs.items()],
        "routes": routes,
        "clusters": [
            {
                "name": name,
                "policies": [merged_data(k, m, trace.protocol) for k, m in confs.items()],
            }
            for name, confs in trace.clusters.items()
        ],
    }
    if trace.tcp_route is not None:
        data["tcpRoute"] = merged_data("MeshTCPRoute", trace.tcp_route)
    if trace.destination is not None:
        data["destination"] = dict(trace.destination)
    return data


def proxy_provenance(trace: ProxyTrace, dataplane: Resource) -> dict[str, Any]:
    return {
        "proxy": trace.node_id,
        "dataplane": policy_ref(dataplane),
        "selected": {
            kind: sorted((policy_ref(p) for p in policies), key=lambda ref: ref["name"])
            for kind, policies in trace.selected.items()
            if policies
        },
        "inbounds": [_inbound(t) for t in trace.inbounds],
        "outbounds": [_outbound(t) for t in trace.outbounds],
        "proxyWide": [merged_data(k, m) for k, m in trace.confs.items()],
        "skipped": [s.note() for s in trace.skipped],
        "patches": [
            {
                "policy": edit.policy.name,
                "modification": format_path(edit.path),
                "at": edit.where(),
                "type": edit.type_url.short,
                "name": edit.name,
                "action": edit.action.value,
            }
            for edit in trace.edits
        ],
    }
