"""Whole-revision compile, full or incremental.

``Compiler.compile(resources)`` returns every proxy's :class:`ProxyConfig`. Called again
with the next revision's resources, it recompiles only the affected proxies and hands the
others back unchanged (the same objects). Affected by a change:

* a policy (added, changed or removed): every proxy its old or new top-level targetRef
  selects;
* a Dataplane: itself, and every proxy with an outbound to a service it provides (before
  or after), since endpoints and protocols of those services may change;
* a Mesh, or any other resource that is neither a policy nor a Dataplane (a MeshService,
  MeshExternalService, HostnameGenerator, MeshOpenTelemetryBackend; or anything whose mesh
  has no index yet): every proxy of that mesh.

When only policies were edited in place (same key, same position in the resources, as the
serve loop hands over a re-parsed file), the previous mesh index is patched (the policies
swapped, nothing re-read) and only the affected proxies are visited: the cost is the edited
policies and the proxies they reach, not the size of the mesh. Any other change builds the
index again (the proxies of unchanged Dataplanes are kept).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from reconciler import codes
from reconciler.compile import kuma_tags, otel_backend
from reconciler.compile.defaults import DEFAULT_FILE_PREFIX
from reconciler.compile.hostnames import HOSTNAME_GENERATOR, Hostname, hostnames
from reconciler.compile.hostnames import SELECTORS as HOSTNAME_SELECTORS
from reconciler.compile.hostnames import as_json as hostnames_json
from reconciler.compile.inventory import MeshIndex, Proxy, index_meshes, proxy_of
from reconciler.compile.matching import MatcherSeeds, selection_ref
from reconciler.compile.proxy import MeshCompiler
from reconciler.compile.shared import Counter, Shared
from reconciler.compile.trace import ProxyTrace, Skip
from reconciler.diagnostics import Diagnostic, at_resource
from reconciler.errors import CompileError, PolicyError
from reconciler.kinds import POLICY_KINDS
from reconciler.model import DEFAULT_MESH, Kind, Resource, ResourceKey
from reconciler.resource_types import ProxyConfig
from reconciler.targetref import selects

Hostnames = dict[tuple[str, str, str], tuple[list[Hostname], list[str]]]
"""What :func:`~reconciler.compile.hostnames.hostnames` found, per (mesh, kind, name)."""

Change = tuple[Resource | None, Resource | None]
"""A resource before and after a revision (None: absent on that side)."""

_INDEX_KINDS = frozenset({HOSTNAME_GENERATOR, *HOSTNAME_SELECTORS})
"""Kinds the mesh index reads besides Dataplanes and Meshes (never patched in place)."""


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
        self.seeds = MatcherSeeds()
        """What the matchers derive per mesh and policy kind, kept while the kind is the same."""
        self._list: list[Resource] = []
        """The previous call's resources, in the order given."""
        self._resources: dict[ResourceKey, Resource] = {}
        self._result: CompileResult | None = None
        self._meshes: dict[str, MeshIndex] = {}
        self._found_hostnames: Hostnames = {}
        self._proxies: dict[str, Proxy] = {}
        """Every proxy by node id, in compile order (meshes, then Dataplanes)."""
        self._failed: frozenset[str] = frozenset()
        """Proxies that could not be compiled last time (they are tried again)."""
        self._order: dict[str, int] = {}
        """Each node id's place in :attr:`_proxies`."""
        self._uses: dict[str, frozenset[str]] = {}
        """Per node id, the services it sends to (:func:`_upstreams` of the last result)."""
        self._consumers: dict[str, dict[str, dict[str, Proxy]]] = {}
        """Per mesh and service, the proxies sending to it (by node id): a policy whose
        ``to[]`` names services reaches only these."""
        self._runs: dict[str, int] = {}
        """Node id -> the shared caches' run that compiled its current config."""

    def compile(self, resources: Sequence[Resource], *, full: bool = False) -> CompileResult:
        start = time.perf_counter()
        run = self.shared.start_run(frozenset(self._runs.values()))
        previous = None if full else self._result
        if previous is None:
            result = self._compile_all(resources, None, [])
        else:
            changed, edited = self._diff(resources)
            patched = self._patch_policies(edited) if edited is not None else None
            if patched is None:
                result = self._compile_all(resources, previous, changed)
            else:
                self._resources = {**self._resources, **{r.key: r for _, r in edited or ()}}
                result = self._compile_some(previous, changed, patched)
        self._list = list(resources)
        result.seconds = time.perf_counter() - start
        result.shared = dict(self.shared.stats())
        self._result = result
        runs = self._runs
        self._runs = {n: run if n in result.compiled else runs[n] for n in result.configs}
        return result

    # -- what changed -----------------------------------------------------------------
    def _diff(
        self, resources: Sequence[Resource]
    ) -> tuple[list[Change], list[tuple[Resource, Resource]] | None]:
        """The resources whose data changed, and, when every difference is a resource
        replaced in place (same key, same position; what the serve loop hands over for a
        re-parsed file), the replaced pairs: found by identity, without hashing a key per
        resource. ``None`` otherwise (added, removed or moved resources)."""
        before = self._list
        if len(before) == len(resources):
            edited = [(a, b) for a, b in zip(before, resources, strict=True) if a is not b]
            if all(a.key == b.key for a, b in edited):
                return [(a, b) for a, b in edited if not _same(a, b)], edited
        current = {r.key: r for r in resources}
        changed: list[Change] = [
            (self._resources.get(k), current.get(k))
            for k in set(self._resources) | set(current)
            if not _same(self._resources.get(k), current.get(k))
        ]
        return changed, None

    def _patch_policies(
        self, edited: Sequence[tuple[Resource, Resource]]
    ) -> dict[str, MeshIndex] | None:
        """The previous mesh index with the edited policies swapped in place (the same
        order a full index gives), when only policies were edited; None when anything
        else was (a Dataplane, a Mesh, a service, a hostname generator: re-index)."""
        if not edited:
            return self._meshes
        meshes = dict(self._meshes)
        lists: dict[tuple[str, str], list[Resource]] = {}
        for old, new in edited:
            if old.kind not in POLICY_KINDS or old.kind in _INDEX_KINDS:
                return None
            mesh = old.mesh or DEFAULT_MESH
            if (new.mesh or DEFAULT_MESH) != mesh or mesh not in meshes:
                return None
            if meshes[mesh] is self._meshes[mesh]:
                index = meshes[mesh]
                meshes[mesh] = replace(index, policies=defaultdict(list, index.policies))
            policies = meshes[mesh].policies
            found = lists.get((mesh, old.kind))
            if found is None:
                found = lists[(mesh, old.kind)] = policies[old.kind] = list(policies[old.kind])
            at = next((i for i, p in enumerate(found) if p is old), None)
            if at is None:
                return None
            found[at] = new
        return meshes

    # -- compiling ------------------------------------------------------------------------
    def _compile_all(
        self,
        resources: Sequence[Resource],
        previous: CompileResult | None,
        changed: Sequence[Change],
    ) -> CompileResult:
        """Index the mesh again; compile every proxy, or (``previous``) the affected ones."""
        self._resources = {r.key: r for r in resources}
        unchanged_proxies = self._unchanged_proxies(changed) if previous is not None else {}
        revision = index_revision(resources, lambda r: unchanged_proxies.get(r.key))
        meshes, found_hostnames = revision.meshes, revision.hostnames
        affected = None if previous is None else self._affected(changed, meshes)
        configs: dict[str, ProxyConfig] = {}
        traces: dict[str, ProxyTrace] = {}
        compiled: set[str] = set()
        failures: list[Diagnostic] = []
        proxies: dict[str, Proxy] = {}
        for index in meshes.values():
            mesh_compiler: MeshCompiler | None = None
            for proxy in index.proxies.values():
                node = proxy.node_id
                proxies[node] = proxy
                reuse = affected is not None and node not in affected and previous is not None
                if reuse and previous is not None and node in previous.configs:
                    configs[node] = previous.configs[node]
                    traces[node] = previous.traces[node]
                    continue
                if mesh_compiler is None:
                    mesh_compiler = MeshCompiler(index, self.shared, self.seeds)
                try:
                    configs[node], traces[node] = mesh_compiler.compile(proxy)
                except (CompileError, ValueError, TypeError) as exc:
                    failures.append(_failure(proxy, exc))
                    continue
                compiled.add(node)
        self._meshes, self._found_hostnames, self._proxies = meshes, found_hostnames, proxies
        self._order = {node: i for i, node in enumerate(proxies)}
        self.seeds.keep(meshes)
        self._failed = frozenset(proxies) - frozenset(configs)
        result = self._result_of(configs, traces, compiled, failures)
        self._uses, self._consumers = {}, {}
        self._index_consumers(proxies, result)
        return result

    def _compile_some(
        self, previous: CompileResult, changed: Sequence[Change], meshes: dict[str, MeshIndex]
    ) -> CompileResult:
        """Only policies changed: the same proxies, the previous index patched; compile the
        affected proxies (and those that failed last time), keep every other result."""
        affected = self._affected(changed, meshes, self._consumers) if changed else set()
        order = self._order
        todo = sorted((n for n in affected | self._failed if n in order), key=order.__getitem__)
        configs = dict(previous.configs)
        traces = dict(previous.traces)
        compiled: set[str] = set()
        failures: list[Diagnostic] = []
        mesh_compilers: dict[str, MeshCompiler] = {}
        for node in todo:
            proxy = self._proxies[node]
            mesh_compiler = mesh_compilers.get(proxy.mesh)
            if mesh_compiler is None:
                mesh_compiler = MeshCompiler(meshes[proxy.mesh], self.shared, self.seeds)
                mesh_compilers[proxy.mesh] = mesh_compiler
            try:
                configs[node], traces[node] = mesh_compiler.compile(proxy)
            except (CompileError, ValueError, TypeError) as exc:
                failures.append(_failure(proxy, exc))
                configs.pop(node, None)
                traces.pop(node, None)
                continue
            compiled.add(node)
        failed = frozenset(n for n in todo if n not in configs)
        if failed != self._failed:  # a proxy joined or left: keep the order of a full pass
            configs = {n: configs[n] for n in self._proxies if n in configs}
            traces = {n: traces[n] for n in self._proxies if n in traces}
        self._meshes, self._failed = meshes, failed
        result = self._result_of(configs, traces, compiled, failures)
        self._index_consumers(todo, result)
        return result

    def _index_consumers(self, nodes: Iterable[str], result: CompileResult) -> None:
        """Bring :attr:`_consumers` up to date for ``nodes`` (those compiled again)."""
        for node in nodes:
            proxy = self._proxies[node]
            uses = frozenset(_upstreams(proxy, result))
            before = self._uses.get(node, frozenset())
            if uses == before:
                continue
            by_service = self._consumers.setdefault(proxy.mesh, {})
            for service in before - uses:
                by_service[service].pop(node, None)
            for service in uses - before:
                by_service.setdefault(service, {})[node] = proxy
            self._uses[node] = uses

    def _result_of(
        self,
        configs: dict[str, ProxyConfig],
        traces: dict[str, ProxyTrace],
        compiled: set[str],
        failures: list[Diagnostic],
    ) -> CompileResult:
        return CompileResult(
            configs,
            traces,
            frozenset(compiled),
            0.0,
            {},
            failures + skip_diagnostics(traces.values()),
            hostnames_json(self._found_hostnames),
        )

    def _unchanged_proxies(self, changed: Sequence[Change]) -> dict[ResourceKey, Proxy]:
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
        changed: Sequence[Change],
        meshes: Mapping[str, MeshIndex],
        consumers: Mapping[str, Mapping[str, Mapping[str, Proxy]]] | None = None,
    ) -> set[str]:
        """Proxies a change reaches. ``consumers`` (only when the proxies are those of the
        previous compile): per mesh and service, who sends to it."""
        affected: set[str] = set()
        toggled: set[str] = set()
        for old, new in changed:
            for resource, index in ((old, self._meshes), (new, meshes)):
                if resource is not None:
                    users = consumers.get(_mesh_of(resource)) if consumers is not None else None
                    affected.update(_affected_by(resource, index, self._result, users))
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
    resource: Resource,
    meshes: Mapping[str, MeshIndex],
    previous: CompileResult | None,
    consumers: Mapping[str, Mapping[str, Proxy]] | None = None,
) -> Iterable[str]:
    index = meshes.get(_mesh_of(resource))
    if index is None:
        return ()
    proxies = index.proxies.values()
    if resource.kind in (Kind.MESH, otel_backend.KIND) or (
        resource.kind not in POLICY_KINDS and resource.kind != Kind.DATAPLANE
    ):
        # a MeshOpenTelemetryBackend: collector clusters of the proxies whose policies name
        # it; a MeshService, MeshExternalService or HostnameGenerator: destinations, their
        # endpoints and names, whoever sends to them
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
    scope = to_scope(resource)
    if scope is not None and consumers is not None:  # only who sends to those services
        found = {n: p for s in sorted(scope) for n, p in consumers.get(s, {}).items()}
        return [n for n, p in found.items() if selects(ref, p.resource)]
    selected = [p for p in proxies if selects(ref, p.resource)]
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
