"""Comparing two revisions: ``diff``, ``diff --server`` and the GitHub Action.

``compare(base, head)`` is the only comparison: it analyzes and compiles the head, the base
where the change reaches it (one compiler for both sides), and diffs the proxies' Envoy
configuration. Reading the sides (a directory, a commit) is ``reconciler.pipeline``'s.

``compare(..., reached_only=True)`` (the GitHub Action) compiles neither side in full: only
the proxies the change reaches (``compile/reach.py``), on both sides. Every other proxy
compiles the same on both sides, so the per-proxy diff is the full compile's (the others
are counted unchanged); the RC5xx compile diagnostics are those of the compiled proxies
(:class:`Scope` says how many), since a proxy the change does not reach has the same ones
on both sides: nothing the change introduces is left out.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from reconciler.cache import FileCache
from reconciler.codes import PROXY_COMPILE_FAILED
from reconciler.compile.compiler import (
    Compiler,
    CompileResult,
    compile_proxies,
    index_revision,
)
from reconciler.compile.reach import changed, reached
from reconciler.compile.shared import Shared
from reconciler.diagnostics import Diagnostic, has_errors, only_errors, sorted_diagnostics
from reconciler.diff import ChangeSet, Partial, diff_revisions
from reconciler.load import DEFAULT_MAX_FILE_SIZE
from reconciler.model import DEFAULT_MESH, Resource
from reconciler.names import node_id
from reconciler.pipeline import (
    Analysis,
    Side,
    analyze,
    collector_paused,
    compilable,
    compile_analysis,
)
from reconciler.resource_types import ProxyConfig, TypeUrl


@dataclass(frozen=True, slots=True)
class Live:
    """The base side of ``diff --server``: what each proxy connected to a running server
    runs. Only ``types`` are compared (the server hands out no key material), and only the
    connected proxies: the others run nothing a push could change."""

    configs: Mapping[str, ProxyConfig]
    types: tuple[TypeUrl, ...]
    notes: tuple[str, ...] = ()
    label: str = "live"

    def comparable(self, configs: Mapping[str, ProxyConfig]) -> dict[str, ProxyConfig]:
        """``configs`` cut to what this side holds: connected proxies, compared types."""
        return {
            node: ProxyConfig(node, {t: list(config.of(t)) for t in self.types})
            for node, config in configs.items()
            if node in self.configs
        }


@dataclass(frozen=True, slots=True)
class Scope:
    """A comparison that compiled only the proxies the change reaches, on both sides."""

    compiled: frozenset[str]
    """Node ids of the proxies compiled: the change can reach them (either side has them)."""
    proxies: int
    """Proxies of both sides together."""

    def note(self) -> str:
        others = self.proxies - len(self.compiled)
        return (
            f"Compiled the {len(self.compiled)} of {self.proxies} proxies this change can reach, "
            f"on both sides; the other {others} get the same configuration on both sides and "
            "are counted unchanged. Compile diagnostics (RC5xx) are those of the compiled "
            "proxies: the others have the same ones as the base revision."
        )


@dataclass(frozen=True, slots=True)
class Comparison:
    changes: ChangeSet
    diagnostics: tuple[Diagnostic, ...]
    """The new revision's diagnostics (every severity); RC5xx ones only of the compiled
    proxies when ``scope`` is set."""
    new: Analysis
    scope: Scope | None = None
    """Set when only the proxies the change reaches were compiled (``reached_only``)."""

    @property
    def invalid(self) -> bool:
        return has_errors(self.diagnostics)


def compare(
    base: Side | Live,
    head: Side,
    *,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    cache_dir: Path | None = None,
    reached_only: bool = False,
) -> Comparison:
    """Analyze and compile ``head`` and diff it against ``base``: another revision's files
    (``diff``, the Action) or what a running server's proxies run (``diff --server``).

    Files the two sides share are parsed and validated once: the per-file cache
    (``cache_dir``, else a temporary one) is keyed by blob id, so the second side reuses the
    first side's results. ``reached_only`` (two revisions): compile only the proxies the
    change reaches, on both sides (the module docstring says what that changes)."""
    with tempfile.TemporaryDirectory(prefix="reconciler-diff-") as tmp:
        directory = cache_dir if cache_dir is not None else Path(tmp)
        old = (
            analyze(
                base.files,
                extra=base.read_diagnostics,
                max_file_size=max_file_size,
                cache=FileCache(directory),
            )
            if isinstance(base, Side)
            else None
        )
        new = analyze(
            head.files,
            extra=head.read_diagnostics,
            max_file_size=max_file_size,
            cache=FileCache(directory),
        )
    new_partial = left_out(new)
    notes: list[str] = []
    scope: Scope | None = None
    unreached: set[str] = set()
    if old is not None and reached_only:
        old_compiled, new_compiled, unreached, scope = _compile_reached(old, new)
    else:
        # One compiler, new side first: the new revision is compiled in full (its RC5xx
        # diagnostics are complete), the old one only where the change reaches; proxies it
        # does not reach come back as the same objects, which the diff skips without
        # comparing.
        compiler = Compiler()
        new_compiled = compile_analysis(new, compiler)
        if old is not None:
            old_compiled = compile_analysis(old, compiler)
    if isinstance(base, Live):
        old_proxies, new_proxies = dict(base.configs), base.comparable(new_compiled.configs)
        sources: tuple[Iterable[Resource], Iterable[Resource]] = ((), ())
        notes.extend(base.notes)
    else:
        assert old is not None
        old_proxies, new_proxies = dict(old_compiled.configs), dict(new_compiled.configs)
        sources = (old.resources, new.resources)
        old_partial = left_out(old)
        if old_partial is not None:
            notes.append(
                f"the base revision {base.label} has errors of its own; "
                f"{len(old_partial.left_out)} of its resources were left out of the comparison"
            )
    failed = [d.resource for d in new_compiled.diagnostics if d.code == PROXY_COMPILE_FAILED]
    for key in failed:  # neither "deleted" nor compared: its new config is unknown
        if key is not None:
            old_proxies.pop(node_id(key.mesh or DEFAULT_MESH, key.name), None)
    if failed:
        left = (*(new_partial.left_out if new_partial else ()), *(k for k in failed if k))
        new_partial = Partial(
            tuple(sorted(set(left), key=str)), new_partial.files if new_partial else ()
        )
    diagnostics = tuple(sorted_diagnostics((*new.diagnostics, *new_compiled.diagnostics)))
    changes = diff_revisions(
        sources=sources,
        proxies=(old_proxies, new_proxies),
        partial=new_partial,
        base=base.label,
        head=head.label,
        notes=notes,
    )
    if unreached:  # the same configuration on both sides, not compiled
        everyone = {*changes.unchanged_proxies, *unreached}
        changes = replace(changes, unchanged_proxies=tuple(sorted(everyone)))
    return Comparison(changes, diagnostics, new, scope)


def _compile_reached(
    old: Analysis, new: Analysis
) -> tuple[CompileResult, CompileResult, set[str], Scope]:
    """Both sides compiled where the change reaches; the node ids of the other proxies
    both sides have, and the scope."""
    with collector_paused():
        before_resources, after_resources = compilable(old), compilable(new)
        before, after = index_revision(before_resources), index_revision(after_resources)
        nodes = reached(before, after, changed(before_resources, after_resources))
        shared = Shared()  # one set of content-keyed caches: equal parts are built once
        new_compiled = compile_proxies(after, nodes, shared=shared)
        old_compiled = compile_proxies(before, nodes, shared=shared)
    old_nodes, new_nodes = before.node_ids(), after.node_ids()
    everyone = old_nodes | new_nodes
    unreached = (old_nodes & new_nodes) - nodes
    return old_compiled, new_compiled, unreached, Scope(frozenset(everyone & nodes), len(everyone))


def left_out(analysis: Analysis) -> Partial | None:
    """What compile leaves out of ``analysis`` because of an error (None when nothing)."""
    found = only_errors(analysis.diagnostics)
    if not found:
        return None
    bad_keys = {d.resource for d in found if d.resource is not None}
    files = sorted({d.file for d in found if d.resource is None and d.file})
    keys = sorted({r.key for r in analysis.resources} & bad_keys, key=str)
    return Partial(tuple(keys), tuple(files))
