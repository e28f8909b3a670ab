"""One compiled revision's provenance on demand: what ``reconciler inspect`` shows of a
proxy, and which proxies each policy selects (``kumactl inspect <policy>``).

Made by the serving loop's compile from a :class:`CompileResult`'s traces, kept with the
published revision, and read by the web console; nothing is computed until asked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.compile.provenance import proxy_provenance
from reconciler.compile.trace import ProxyTrace
from reconciler.model import DEFAULT_MESH, Kind, Resource
from reconciler.names import node_id

PolicyKey = tuple[str, str, str]
"""(kind, mesh, name) of a policy."""


class TraceExplainer:
    def __init__(self, traces: Mapping[str, ProxyTrace], resources: Sequence[Resource]) -> None:
        self._traces = traces
        self._resources = resources
        self._dataplanes: dict[str, Resource] | None = None
        self._selecting: dict[PolicyKey, tuple[str, ...]] | None = None

    def proxy(self, node: str) -> dict[str, Any] | None:
        if self._dataplanes is None:  # built when first asked (the console), not per revision
            self._dataplanes = {
                node_id(r.mesh or DEFAULT_MESH, r.name): r
                for r in self._resources
                if r.kind == Kind.DATAPLANE
            }
        trace, dataplane = self._traces.get(node), self._dataplanes.get(node)
        if trace is None or dataplane is None:
            return None
        return proxy_provenance(trace, dataplane)

    def selecting(self) -> Mapping[PolicyKey, tuple[str, ...]]:
        """Every policy that selects at least one proxy -> the node ids, sorted."""
        if self._selecting is None:
            found: dict[PolicyKey, list[str]] = {}
            for node in sorted(self._traces):
                for kind, policies in self._traces[node].selected.items():
                    for policy in policies:
                        key = (kind, policy.mesh or DEFAULT_MESH, policy.name)
                        found.setdefault(key, []).append(node)
            self._selecting = {key: tuple(nodes) for key, nodes in sorted(found.items())}
        return self._selecting
