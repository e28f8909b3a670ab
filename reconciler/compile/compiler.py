"""Whole-revision compile, full or incremental.

``Compiler.compile(resources)`` returns every proxy's :class:`ProxyConfig`. Called again
with the next revision's resources, it recompiles only the affected proxies and hands the
others back unchanged (the same objects). Affected by a change:

* a policy (added, changed or removed): every proxy its old or new top-level targetRef
  selects;
* a Dataplane: itself, and every proxy with an outbound to a service it provides (before
  or after), since endpoints and protocols of those services may change;
* a Mesh or a MeshOpenTelemetryBackend (or anything whose mesh has no index yet): every
  proxy of that mesh.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from reconciler import codes
from reconciler.compile import kuma_tags, otel_backend
from reconciler.compile.defaults import DEFAULT_FILE_PREFIX
from reconciler.compile.hostnames import HOSTNAME_GENERATOR, Hostname, hostnames
from reconciler.compile.hostnames import SELECTORS as HOSTNAME_SELECTORS
from reconciler.compile.hostnames import as_json as hostnames_json
from reconciler.compile.inventory import MeshIndex, Proxy, index_meshes, proxy_of
from reconciler.compile.matching import selection_ref
from reconciler.compile.proxy import MeshCompiler
from reconciler.compile.shared import Counter, Shared
from reconciler.compile.trace import ProxyTrace, Skip
from reconciler.diagnostics import Diagnostic, at_resource
from reconciler.errors import CompileError, PolicyError
from reconciler.model import DEFAULT_MESH, Kind, Resource, ResourceKey
from reconciler.resource_types import ProxyConfig
from reconciler.targetref import selects


@dataclass(slots=True)
class CompileResult:
    configs: dict[str, ProxyConfig]
    traces: dict[str, ProxyTrace]
    compiled: frozenset[str]
    """Node ids compiled in this pass (all of them for a full compile)."""
    seconds: float
    shared: Mapping[str, Counter] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    """RC5xx: proxies that failed (left out of ``configs``) and policy parts not applied."""
    hostnames: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    """Per mesh, the hostnames HostnameGenerators give each service (``hostnames.as_json``)."""


class Compiler:
    """Keeps the previous revision and the shared caches between compiles."""

    def __init__(self) -> None:
        self.shared = Shared()
        self._resources: dict[ResourceKey, Resource] = {}
        self._result: CompileResult | None = None
        self._meshes: dict[str, MeshIndex] = {}
        self._runs: dict[str, int] = {}
        """Node id -> the shared caches' run that compiled its current config."""

    def compile(self, resources: Sequence[Resource], *, full: bool = False) -> CompileResult:
        start = time.perf_counter()
        run = self.shared.start_run(frozenset(self._runs.values()))
        current = {r.key: r for r in resources}
        previous = None if full else self._result
        changed = self._changed(current) if previous is not None else []
        unchanged_proxies = self._unchanged_proxies(changed) if previous is not None else {}
        revision = index_revision(resources, lambda r: unchanged_proxies.get(r.key))
        meshes, found_hostnames = revision.meshes, revision.hostnames
        affected = None if previous is None else self._affected(changed, meshes)
        configs: dict[str, ProxyConfig] = {}
        traces: dict[str, ProxyTrace] = {}
        compiled: set[str] = set()
        failures: list[Diagnostic] = []
        for index in meshes.values():
            mesh_compiler: MeshCompiler | None = None
            for proxy in index.proxies.values():
                node = proxy.node_id
                reuse = affected is not None and node not in affected and previous is not None
                if reuse and previous is not None and node in previous.configs:
                    configs[node] = previous.configs[node]
                    traces[node] = previous.traces[node]
                    continue
                if mesh_compiler is None:
                    mesh_compiler = MeshCompiler(index, self.shared)
                try:
                    configs[node], traces[node] = mesh_compiler.compile(proxy)
                except (CompileError, ValueError, TypeError) as exc:
                    failures.append(_failure(proxy, exc))
                    continue
                compiled.add(node)
        result = CompileResult(
            configs,
            traces,
            frozenset(compiled),
            time.perf_counter() - start,
            dict(self.shared.stats()),
            failures + skip_diagnostics(traces.values()),
            hostnames_json(found_hostnames),
        )
        self._resources, self._result, self._meshes = current, result, meshes
        self._runs = {node: run if node in compiled else self._runs[node] for node in configs}
        return result

    def _changed(
        self, current: Mapping[ResourceKey, Resource]
    ) -> list[tuple[Resource | None, Resource | None]]:
        return [
            (self._resources.get(k), current.get(k))
            for k in set(self._resources) | set(current)
            if not _same(self._resources.get(k), current.get(k))
        ]

    def _unchanged_proxies(
        self, changed: Sequence[tuple[Resource | None, Resource | None]]
    ) -> dict[ResourceKey, Proxy]:
        """Previous proxies of Dataplanes whose data did not change (no need to re-read)."""
        dirty = {(r.key) for pair in changed for r in pair if r is not None}
        return {
            proxy.resource.key: proxy
            for index in self._meshes.values()
            for proxy in index.proxies.values()
            if proxy.resource.key not in dirty
        }

    def _affected(
        self,
        changed: Sequence[tuple[Resource | None, Resource | None]],
        meshes: Mapping[str, MeshIndex],
    ) -> set[str]:
        affected: set[str] = set()
        toggled: set[str] = set()
        for old, new in changed:
            for resource, index in ((old, self._meshes), (new, meshes)):
                if resource is not None:
                    affected.update(_affected_by(resource, index, self._result))
                    if resource.kind in kuma_tags.USING_KINDS:
                        toggled.add(_mesh_of(resource))
        for mesh in sorted(toggled):
            before, after = self._meshes.get(mesh), meshes.get(mesh)
            if before is None or after is None:
                continue  # a new or removed mesh: all its proxies are compiled anyway
            if bool(kuma_tags.users(before)) != bool(kuma_tags.users(after)):
                # x-kuma-tags turned on (off) on every outbound route config of the mesh
                affected.update(p.node_id for p in after.proxies.values())
        return affected


def _same(a: Resource | None, b: Resource | None) -> bool:
    if a is b:  # the serve loop hands back an unchanged file's Resource objects
        return True
    if a is None or b is None:
        return a is b
    return a.data == b.data


def _mesh_of(resource: Resource) -> str:
    return resource.name if resource.kind == Kind.MESH else (resource.mesh or DEFAULT_MESH)


def _affected_by(
    resource: Resource, meshes: Mapping[str, MeshIndex], previous: CompileResult | None
) -> Iterable[str]:
    index = meshes.get(_mesh_of(resource))
    if index is None:
        return ()
    proxies = index.proxies.values()
    if resource.kind in (Kind.MESH, otel_backend.KIND):
        # a MeshOpenTelemetryBackend: collector clusters of the proxies whose policies name it
        return [p.node_id for p in proxies]
    if resource.kind == Kind.DATAPLANE:
        proxy = proxy_of(resource)
        services = {i.service for i in proxy.inbounds}
        services.update(
            key
            for key in index.destinations
            if any(e.dataplane == proxy.name for e in index.endpoints.get(key, ()))
        )
        out = [proxy.node_id]
        # an outbound written with backendRef may resolve differently (generated MeshServices)
        out.extend(
            p.node_id
            for p in proxies
            if any(o.service in services or o.backend_ref is not None for o in p.outbounds)
        )
        if previous is not None:
            out.extend(
                node
                for node, trace in previous.traces.items()
                if any(o.upstreams & services for o in trace.outbounds)
            )
        return out
    ref = selection_ref(resource, index)  # a MeshHTTPRoute target: that route's selection
    selected = [p for p in proxies if selects(ref, p.resource)]
    scope = to_scope(resource)
    if scope is None:
        return [p.node_id for p in selected]
    return [p.node_id for p in selected if scope & _upstreams(p, previous)]


def to_scope(policy: Resource) -> frozenset[str] | None:
    """Services a policy's ``to[]`` entries name; None when it may touch anything else
    (``from``/``rules``/``default``, a ``Mesh`` to-entry, or another to-entry kind)."""
    spec = policy.spec
    if any(spec.get(k) for k in ("from", "rules", "default")):
        return None
    names: set[str] = set()
    for entry in spec.get("to") or ():
        ref = entry.get("targetRef") if isinstance(entry, dict) else None
        if not isinstance(ref, dict) or ref.get("kind") not in ("MeshService", "MeshServiceSubset"):
            return None
        names.add(str(ref.get("name")))
    return frozenset(names)


def _upstreams(proxy: Proxy, previous: CompileResult | None) -> set[str]:
    used = {o.service for o in proxy.outbounds}
    trace = previous.traces.get(proxy.node_id) if previous is not None else None
    if trace is not None:
        for outbound in trace.outbounds:
            used |= outbound.upstreams
    return used


def _failure(proxy: Proxy, exc: Exception) -> Diagnostic:
    if isinstance(exc, PolicyError):  # the policy's part is to blame, not the Dataplane
        return at_resource(
            exc.code, exc.resource, exc.path, f"proxy {proxy.node_id}: {exc.message}"
        )
    return at_resource(
        codes.PROXY_COMPILE_FAILED,
        proxy.resource,
        (),
        f"proxy {proxy.node_id} could not be compiled: {exc}",
    )


def skip_diagnostics(traces: Iterable[ProxyTrace]) -> list[Diagnostic]:
    """One RC502 per skipped policy part, naming how many proxies it concerns."""
    proxies: dict[Skip, list[str]] = {}
    for trace in traces:
        for skip in trace.skipped:
            proxies.setdefault(skip, []).append(trace.node_id)
    out: list[Diagnostic] = []
    for skip, nodes in proxies.items():
        if skip.resource.file.startswith(DEFAULT_FILE_PREFIX):
            continue
        where = nodes[0] if len(nodes) == 1 else f"{nodes[0]} and {len(nodes) - 1} more"
        out.append(
            at_resource(skip.code, skip.resource, skip.path, f"{skip.message} (proxy {where})")
        )
    return out


def compile_resources(resources: Sequence[Resource]) -> CompileResult:
    """A one-off full compile."""
    return Compiler().compile(resources)


# One revision's index, and a compile of some of its proxies: for a comparison that knows
# which proxies a change reaches (``compile/reach.py``) without a previous compile.


@dataclass(frozen=True, slots=True)
class IndexedRevision:
    """A revision's meshes as the compiler sees them, hostnames filled in."""

    meshes: dict[str, MeshIndex]
    hostnames: dict[tuple[str, str, str], tuple[list[Hostname], list[str]]]

    def node_ids(self) -> set[str]:
        return {p.node_id for index in self.meshes.values() for p in index.proxies.values()}


def index_revision(
    resources: Sequence[Resource], reuse: Callable[[Resource], Proxy | None] | None = None
) -> IndexedRevision:
    """Index ``resources`` (valid ones) per mesh and give each destination its hostnames."""
    meshes = index_meshes(resources, reuse)
    found_hostnames = hostnames(
        (r for r in resources if r.kind == HOSTNAME_GENERATOR),
        (r for r in resources if r.kind in HOSTNAME_SELECTORS),
    )
    for index in meshes.values():
        for key, destination in index.destinations.items():
            names, _ = found_hostnames.get(
                (index.name, destination.kind, destination.name), ([], [])
            )
            if names:
                index.hostnames[key] = [h.hostname for h in names]
    return IndexedRevision(meshes, found_hostnames)


def compile_proxies(
    revision: IndexedRevision, nodes: Collection[str], *, shared: Shared | None = None
) -> CompileResult:
    """Compile only the proxies of ``revision`` whose node id is in ``nodes``: their configs
    are those a full compile gives them, the RC5xx diagnostics are those of these proxies
    only. ``shared``: caches to share with another call (the other side of a comparison)."""
    start = time.perf_counter()
    shared = shared if shared is not None else Shared()
    shared.start_run()
    configs: dict[str, ProxyConfig] = {}
    traces: dict[str, ProxyTrace] = {}
    compiled: set[str] = set()
    failures: list[Diagnostic] = []
    for index in revision.meshes.values():
        wanted = [p for p in index.proxies.values() if p.node_id in nodes]
        mesh_compiler = MeshCompiler(index, shared) if wanted else None
        for proxy in wanted:
            assert mesh_compiler is not None
            try:
                configs[proxy.node_id], traces[proxy.node_id] = mesh_compiler.compile(proxy)
            except (CompileError, ValueError, TypeError) as exc:
                failures.append(_failure(proxy, exc))
                continue
            compiled.add(proxy.node_id)
    return CompileResult(
        configs,
        traces,
        frozenset(compiled),
        time.perf_counter() - start,
        dict(shared.stats()),
        failures + skip_diagnostics(traces.values()),
        hostnames_json(revision.hostnames),
    )


__all__ = [
    "CompileResult",
    "Compiler",
    "IndexedRevision",
    "Proxy",
    "compile_proxies",
    "compile_resources",
    "index_revision",
]
