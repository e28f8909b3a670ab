"""One revision -> a snapshot per proxy, or the reason nothing of it may be published.

:class:`RevisionBuilder` is the reconcile loop's analysis and compile part: it analyses the
revision's files (per-file results cached across revisions), compiles with the injected
``compile`` (serve never imports the compiler), checks and serializes the snapshots, and
reuses the snapshots of proxies a revision does not reach. It runs in a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler import codes
from reconciler.diagnostics import Diagnostic, has_errors, refusing_serving
from reconciler.pipeline import Analysis, collector_paused
from reconciler.resource_types import ProxyConfig
from reconciler.serve.analysis_cache import RevisionAnalyzer
from reconciler.serve.console.records import BuildLog, Explainer
from reconciler.serve.heap import Collector, release_free_memory
from reconciler.snapshot import Interner, Snapshot, build_snapshots, compact
from reconciler.source import Revision


@dataclass(frozen=True, slots=True)
class Compiled:
    configs: Mapping[str, ProxyConfig]
    diagnostics: tuple[Diagnostic, ...] = ()
    hostnames: Mapping[str, Any] = field(default_factory=dict)
    """Per mesh, the hostnames HostnameGenerators give each service (``/status``)."""
    explain: Explainer | None = None
    """Provenance of the compiled proxies (``reconciler inspect``), shown by the console."""


CompileFn = Callable[[Analysis], Compiled]

Rejection = dict[str, Any]
"""``{code, message, diagnostics: [...]}``: why a revision was not published (``lastError``)."""


class RevisionBuilder:
    def __init__(
        self,
        analyzer: RevisionAnalyzer,
        compile: CompileFn,
        interner: Interner,
        *,
        allow_empty: bool = False,
    ) -> None:
        self.analyzer = analyzer
        self.compile = compile
        self.interner = interner
        self.allow_empty = allow_empty
        """Publish a revision that has no resources or removes a mesh's every proxy."""
        self.hostnames: Mapping[str, Any] = {}
        """Of the last revision built without errors (``/status`` ``hostnames``)."""
        self._built: dict[str, tuple[ProxyConfig, Snapshot]] = {}
        self.log = BuildLog()
        """The recent revisions built, refused or published (the console's pages)."""
        self.collector: Collector | None = None
        """Set by ``serve`` (one per process): each build's objects frozen (see serve.heap)."""

    def build(self, revision: Revision) -> tuple[dict[str, Snapshot], Rejection | None]:
        """Every proxy's snapshot, or ``({}, rejection)``: a revision publishes whole or not."""
        collector = self.collector
        if collector is not None:
            collector.before_build()
        with collector_paused():  # analysis, compile and snapshots only allocate
            snapshots, error = self._build(revision)
        if collector is not None:
            collector.after_build()
        release_free_memory()  # what the build freed, back to the system (see serve.heap)
        if error is not None:
            self.log.refused(revision.id, revision.meta, error)
        return snapshots, error

    def _build(self, revision: Revision) -> tuple[dict[str, Snapshot], Rejection | None]:
        analysis = self.analyzer(revision.files, revision.diagnostics)
        if not analysis.resources and analysis.ok and not self.allow_empty:
            return {}, _empty(
                f"revision {revision.short_id} has no resources (no YAML file, or a wrong "
                "`--path`?); nothing was published"
            )
        if not analysis.ok:
            return {}, rejection(
                codes.REVISION_REJECTED,
                f"revision {revision.short_id} has errors; nothing was published",
                analysis.diagnostics,
            )
        compiled = self.compile(analysis)
        if has_errors(compiled.diagnostics):
            return {}, rejection(
                codes.COMPILE_FAILED,
                f"revision {revision.short_id} could not be compiled",
                compiled.diagnostics,
            )
        emptied = self._emptied_meshes(compiled.configs)
        if emptied and not self.allow_empty:
            meshes = ", ".join(f"{mesh} (had {n})" for mesh, n in emptied)
            return {}, _empty(
                f"revision {revision.short_id} removes every proxy of mesh {meshes}; "
                "nothing was published"
            )
        snapshots, problems = self.snapshots(compiled.configs, revision)
        if problems:
            return {}, {
                "code": codes.SNAPSHOT_INCONSISTENT,
                "message": f"revision {revision.short_id}: inconsistent configuration, "
                "nothing was published",
                "diagnostics": [
                    {"code": codes.SNAPSHOT_INCONSISTENT, "severity": "error", "message": str(p)}
                    for p in problems
                ],
            }
        self.hostnames = compiled.hostnames
        self.log.published(
            revision.id, revision.meta, analysis.resources, compiled.configs, compiled.explain
        )
        return snapshots, None

    def snapshots(
        self, configs: Mapping[str, ProxyConfig], revision: Revision
    ) -> tuple[dict[str, Snapshot], list[Any]]:
        """Only proxies whose compiled config is a new object are serialized again (the
        incremental compiler hands back the same object for a proxy a commit does not
        reach). A serialized config then holds its snapshot's encoded resources instead
        of its messages (:func:`~reconciler.snapshot.compact`): the compiler, the console
        and this builder keep the config objects, not the messages."""
        reused: dict[str, Snapshot] = {}
        fresh: dict[str, ProxyConfig] = {}
        for node, config in configs.items():
            hit = self._built.get(node)
            if hit is not None and hit[0] is config:
                reused[node] = hit[1]
            else:
                fresh[node] = config
        built, problems = build_snapshots(fresh, self.interner)
        if problems:
            return {}, problems
        for node, snap in built.items():
            compact(fresh[node], snap)
        snapshots = {**reused, **built}
        self._built = {node: (configs[node], snap) for node, snap in snapshots.items()}
        return snapshots, []

    def _emptied_meshes(self, configs: Mapping[str, ProxyConfig]) -> list[tuple[str, int]]:
        """Meshes that had proxies in the last published revision and have none now."""
        before: dict[str, int] = {}
        for node in self._built:
            mesh = node.split(".", 1)[0]
            before[mesh] = before.get(mesh, 0) + 1
        now = {node.split(".", 1)[0] for node in configs}
        return [(mesh, count) for mesh, count in sorted(before.items()) if mesh not in now]


def _empty(message: str) -> Rejection:
    return {
        "code": codes.REVISION_EMPTY,
        "message": message,
        "hint": "check --path and the commit; start serve with --allow-empty to publish it",
        "diagnostics": [],
    }


def rejection(code: str, message: str, diagnostics: Iterable[Diagnostic]) -> Rejection:
    return {
        "code": code,
        "message": message,
        "diagnostics": [
            {**d.to_json(), "text": d.format_text()} for d in refusing_serving(diagnostics)
        ],
    }
