"""Which policies apply where, and their merged confs, memoised so proxies share the work.

Per mesh: the policies of each kind (plus Kuma's initial defaults) sorted least specific
first. Per proxy: the policies whose top-level targetRef selects it. Per (policy set,
service): the merged ``to[]`` conf; per (policy set, inbound): the merged ``from[]`` /
``rules[]`` conf. Proxies with the same policy set and service share one :class:`Merged`.

Kuma behaviours reproduced (``pkg/plugins/policies/core/rules``):

* ``to[]`` entry applies to service S when its targetRef is ``Mesh``, or ``MeshService`` /
  ``MeshServiceSubset`` named S; entries merge in :func:`ordering.sort_entries` order.
* ``from[]`` entries with targetRef ``Mesh`` and ``rules[]`` without ``matches`` apply to
  all incoming traffic.
* MeshFaultInjection ``from[]`` entries naming clients (``MeshService``, ``MeshSubset``,
  ``MeshServiceSubset``) become Kuma's subset rules (:mod:`subsets`), matched on the
  ``x-kuma-tags`` header clients send; a policy set with ``rules[]`` uses only ``rules[]``.
* MeshFaultInjection ``rules[]``: one rule per match, each with its own ``default``
  (``{inboundRules: [...]}``, Kuma's ``inbound.BuildRules``).
* ``rules[].matches`` (``spiffeID``) of MeshTimeout / MeshRateLimit: listed under
  ``matchedRules`` (:mod:`matched_routes`); other kinds skip them with a note.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from reconciler.compile import matched_routes
from reconciler.compile.context import Section
from reconciler.compile.defaults import initial_policies
from reconciler.compile.inventory import Inbound, MeshIndex, Proxy
from reconciler.compile.kri import kri
from reconciler.compile.merge import (
    Contribution,
    KeyedRule,
    Merged,
    Origin,
    canonical,
    mapping,
    merge,
    merge_rules_by_matches,
)
from reconciler.compile.mesh_services import Destination, to_entry_applies
from reconciler.compile.ordering import sort_entries, sort_policies, target_ref
from reconciler.compile.plugins import plugins
from reconciler.compile.subsets import (
    INBOUND_RULES,
    SUBSET_RULES,
    Subset,
    SubsetRule,
    build_rules,
    ref_subset,
)
from reconciler.compile.trace import Skip
from reconciler.model import FieldPath, Resource
from reconciler.targetref import MESH_HTTP_ROUTE, selected_inbounds, selects

_SERVICE_KINDS = frozenset({"MeshService", "MeshServiceSubset"})
_TO_KINDS = frozenset({"Mesh", *_SERVICE_KINDS, "MeshExternalService"})
FROM_WITH_RULES = (
    "from[] is ignored: a policy selecting this inbound uses rules[], and then Kuma applies "
    "only rules[]"
)
SNI_ONLY = (
    "a match without spiffeID (SNI only) applies to zone proxies in Kuma, not to sidecar "
    "inbounds; not applied"
)
NEEDS_IDENTITY = (
    "rules[] with matches: matching the peer's spiffeID (or SNI) per request is not compiled "
    "yet; not applied"
)

PolicySet = tuple[Resource, ...]


def _entries(policy: Resource, section: str) -> list[tuple[Resource, int, Mapping[str, Any]]]:
    raw = policy.spec.get(section)
    if not isinstance(raw, list):
        return []
    return [(policy, i, e) for i, e in enumerate(raw) if isinstance(e, dict)]


def to_applies(
    entry: Mapping[str, Any], service: str, destination: Destination | None = None
) -> bool:
    ref = entry.get("targetRef")
    ref = ref if isinstance(ref, dict) else {"kind": "Mesh"}
    if destination is not None:
        return to_entry_applies(ref, destination)
    kind = ref.get("kind", "Mesh")
    return kind == "Mesh" or (kind in _SERVICE_KINDS and ref.get("name") == service)


class _SelectionIndex:
    """The policies of one kind (sorted) by what their top-level targetRef can select."""

    def __init__(self, policies: Sequence[Resource], refs: Mapping[int, Mapping[str, Any]]):
        self.policies = list(policies)
        self.always: list[int] = []
        self.by_service: dict[str, list[int]] = {}
        self.by_name: dict[str, list[int]] = {}
        self.scan: list[int] = []
        for position, policy in enumerate(self.policies):
            ref = refs[id(policy)]
            kind = ref.get("kind", "Mesh")
            name = ref.get("name")
            tags = ref.get("tags")
            service = tags.get("kuma.io/service") if isinstance(tags, dict) else None
            if kind == "Mesh" and "proxyTypes" not in ref:
                self.always.append(position)
            elif kind in _SERVICE_KINDS and isinstance(name, str):
                self.by_service.setdefault(name, []).append(position)
            elif kind == "MeshSubset" and isinstance(service, str):
                self.by_service.setdefault(service, []).append(position)
            elif kind == "Dataplane" and isinstance(name, str):
                self.by_name.setdefault(name, []).append(position)
            else:
                self.scan.append(position)

    def candidates(self, services: set[str], name: str) -> list[int]:
        """Positions that may select a proxy with ``services`` and ``name``, besides
        :attr:`always` (the mesh-wide ones, which select every proxy)."""
        out = [*self.scan, *self.by_name.get(name, ())]
        for service in services:
            out.extend(self.by_service.get(service, ()))
        return out


class KindState:
    """What a :class:`Matcher` derives from one kind's policies of one mesh: their order,
    selection refs, the MeshHTTPRoutes they target and the selection index. It holds the
    policies it was derived from, so a later compile whose kind has the very same objects
    (and, if any targets a MeshHTTPRoute, the same routes) takes it over unchanged."""

    __slots__ = (
        "inputs",
        "ref_keys",
        "refs",
        "route_targets",
        "routes",
        "selection",
        "sorted",
        "to_targets",
        "unsupported",
    )

    def __init__(
        self, inputs: tuple[Resource, ...], routes: tuple[Resource, ...], index: MeshIndex
    ) -> None:
        self.inputs = inputs
        self.sorted = sort_policies(inputs)
        self.route_targets: dict[int, Resource | None] = {
            id(p): route_target(p, index)
            for p in self.sorted
            if target_ref(p).get("kind") == MESH_HTTP_ROUTE
        }
        self.routes = routes if self.route_targets else ()
        """The mesh's MeshHTTPRoutes when some policy targets one (its refs depend on them)."""
        self.refs: dict[int, Mapping[str, Any]] = {
            id(p): selection_ref(p, index) for p in self.sorted
        }
        self.ref_keys: dict[int, str] = {i: canonical(r) for i, r in self.refs.items()}
        self.selection = _SelectionIndex(self.sorted, self.refs)
        self.to_targets: dict[int, tuple[bool, frozenset[str]]] = {}
        """Filled as matchers ask: per policy, whether a ``to[]`` entry is mesh-wide (or by
        labels) and the names its entries target."""
        self.unsupported: dict[int, tuple[Skip, ...]] = {}
        """Filled as matchers ask: per policy, its ``to[]`` entries not compiled."""

    def fits(self, inputs: tuple[Resource, ...], routes: tuple[Resource, ...]) -> bool:
        return _same_objects(self.inputs, inputs) and (
            not self.route_targets or _same_objects(self.routes, routes)
        )


class MatcherSeeds:
    """Kept by the compiler across compiles: per mesh, the initial default policies (while
    the Mesh resource is the same object) and each kind's :class:`KindState`, so a revision
    that edits one policy derives again only that policy's kind."""

    def __init__(self) -> None:
        self._defaults: dict[str, tuple[Resource | None, list[Resource]]] = {}
        self._kinds: dict[tuple[str, str], KindState] = {}

    def defaults(self, index: MeshIndex) -> list[Resource]:
        hit = self._defaults.get(index.name)
        if hit is None or hit[0] is not index.mesh:
            hit = (index.mesh, initial_policies(index.name, index.mesh))
            self._defaults[index.name] = hit
        return hit[1]

    def kind(
        self,
        index: MeshIndex,
        kind: str,
        inputs: tuple[Resource, ...],
        routes: tuple[Resource, ...],
    ) -> KindState:
        state = self._kinds.get((index.name, kind))
        if state is None or not state.fits(inputs, routes):
            state = KindState(inputs, routes, index)
            self._kinds[(index.name, kind)] = state
        return state

    def keep(self, meshes: Iterable[str]) -> None:
        """Forget the meshes a revision no longer has."""
        wanted = set(meshes)
        self._defaults = {m: d for m, d in self._defaults.items() if m in wanted}
        self._kinds = {k: s for k, s in self._kinds.items() if k[0] in wanted}


def _same_objects(a: Sequence[Resource], b: Sequence[Resource]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


class Matcher:
    """Policy selection and merging for one mesh; every result memoised."""

    def __init__(
        self, index: MeshIndex, kinds: Sequence[str], seeds: MatcherSeeds | None = None
    ) -> None:
        self.index = index
        seeds = seeds if seeds is not None else MatcherSeeds()
        defaults = {(r.kind, r.name): r for r in seeds.defaults(index)}
        by_kind: dict[str, list[Resource]] = {k: list(index.policies.get(k, ())) for k in kinds}
        for (kind, name), resource in defaults.items():
            present = any(r.name == name for r in by_kind.get(kind, ()))
            if kind in by_kind and not present:
                by_kind[kind].append(resource)
        routes = tuple(index.policies.get(MESH_HTTP_ROUTE, ()))
        states = {k: seeds.kind(index, k, tuple(v), routes) for k, v in by_kind.items()}
        self.policies: dict[str, list[Resource]] = {k: s.sorted for k, s in states.items()}
        self._route_targets: dict[int, Resource | None] = {}
        self._refs: dict[int, Mapping[str, Any]] = {}
        self._ref_keys: dict[int, str] = {}
        for state in states.values():
            self._route_targets.update(state.route_targets)
            self._refs.update(state.refs)
            self._ref_keys.update(state.ref_keys)
        self._routes: dict[tuple[tuple[int, ...], str], dict[str, Merged]] = {}
        self._to: dict[tuple[int, ...], dict[str, Merged | None]] = {}
        self._from: dict[tuple[Any, ...], tuple[Merged | None, tuple[Skip, ...]]] = {}
        self._http: dict[tuple[tuple[int, ...], str], list[KeyedRule]] = {}
        self._tcp: dict[tuple[tuple[int, ...], str], Merged | None] = {}
        self._to_targets: dict[int, tuple[bool, frozenset[str]]] = {}
        self._unsupported: dict[int, tuple[Skip, ...]] = {}
        for state in states.values():  # what earlier matchers found for the same policies
            self._to_targets.update(state.to_targets)
            self._unsupported.update(state.unsupported)
        self._selection = {k: s.selection for k, s in states.items()}
        self._states = states
        self._sets: dict[tuple[int, ...], PolicySet] = {}
        self._relevant_memo: dict[tuple[int, str], tuple[Resource, ...]] = {}
        self._sets_by_id: dict[int, PolicySet] = {}
        self._set_skips: dict[int, tuple[Skip, ...]] = {}
        self._inbound_checks: dict[tuple[int, bool], tuple[int, ...]] = {}
        self._single: dict[tuple[int, ...], Merged | None] = {}

    def selected(self, proxy: Proxy) -> dict[str, PolicySet]:
        """Per kind, the policies selecting ``proxy``, least specific first.

        Candidates come from an index (mesh-wide, by service, by Dataplane name), so a proxy
        costs the policies that can select it, not every policy of the mesh. Equal sets are
        interned: proxies selected by the same policies share one tuple, and every memo keyed
        by it.
        """
        services = {i.service for i in proxy.inbounds}
        verdicts: dict[str, bool] = {}
        out: dict[str, PolicySet] = {}
        for kind, index in self._selection.items():
            matched: list[int] = []
            for position in index.candidates(services, proxy.name):
                policy = index.policies[position]
                ref = self._refs[id(policy)]
                if ref.get("kind", "Mesh") == "MeshService":
                    matched.append(position)  # offered by the service index: it matches
                    continue
                key = self._ref_keys[id(policy)]
                verdict = verdicts.get(key)
                if verdict is None:
                    verdict = selects(ref, proxy.resource)
                    verdicts[key] = verdict
                if verdict:
                    matched.append(position)
            chosen = sorted(index.always + matched) if matched else index.always
            set_key = (id(index), *chosen)
            interned = self._sets.get(set_key)
            if interned is None:
                interned = tuple(index.policies[i] for i in chosen)
                self._sets[set_key] = interned
                self._sets_by_id[id(interned)] = interned
            out[kind] = interned
        return out

    def _relevant(self, policies: PolicySet, service: str) -> tuple[Resource, ...]:
        """The policies with a ``to[]`` entry for ``service``: the only ones its conf uses."""
        interned = self._sets_by_id.get(id(policies)) is policies
        memo_key = (id(policies), service)
        if interned and (hit := self._relevant_memo.get(memo_key)) is not None:
            return hit
        out = []
        for p in policies:
            targets = self._to_targets.get(id(p))
            if targets is None:
                entries = _entries(p, Section.TO)
                mesh_wide = any(
                    mapping(e.get("targetRef")).get("kind", "Mesh") == "Mesh" for _, _, e in entries
                )
                names = frozenset(
                    str(mapping(e.get("targetRef")).get("name")) for _, _, e in entries
                )
                by_labels = any(mapping(e.get("targetRef")).get("labels") for _, _, e in entries)
                targets = (mesh_wide or by_labels, names)
                self._to_targets[id(p)] = targets
                if (state := self._state_of(p)) is not None:
                    state.to_targets[id(p)] = targets
            destination = self.index.destinations.get(service)
            wanted = destination.name if destination is not None else service
            if targets[0] or wanted in targets[1]:
                out.append(p)
        result = tuple(out)
        if interned:  # an interned set lives as long as the matcher: its id is a safe key
            self._relevant_memo[memo_key] = result
        return result

    def set_skips(self, policies: PolicySet) -> tuple[Skip, ...]:
        """Parts of ``policies`` that are not applied (memoised per interned policy set)."""
        interned = self._sets_by_id.get(id(policies)) is policies
        if interned and (hit := self._set_skips.get(id(policies))) is not None:
            return hit
        out: list[Skip] = []
        for policy in policies:
            out.extend(self.unsupported(policy))
            out.extend(plugins()[policy.kind].skips(policy))
            out.extend(plugins()[policy.kind].mesh_skips(policy, self.index))
        result = tuple(out)
        if interned:
            self._set_skips[id(policies)] = result
        return result

    def unsupported(self, policy: Resource) -> tuple[Skip, ...]:
        """``to[]`` entries whose targetRef kind is not compiled (MeshExternalService, ...)."""
        hit = self._unsupported.get(id(policy))
        if hit is not None:
            return hit
        out: list[Skip] = []
        for _, i, e in _entries(policy, Section.TO):
            kind = mapping(e.get("targetRef")).get("kind", "Mesh")
            if kind not in _TO_KINDS:
                out.append(
                    Skip(
                        policy,
                        (*policy.spec_path, "to", i, "targetRef", "kind"),
                        f"to[] targetRef kind {kind} is not compiled yet; this entry has no effect",
                    )
                )
        self._unsupported[id(policy)] = found = tuple(out)
        if (state := self._state_of(policy)) is not None:
            state.unsupported[id(policy)] = found
        return found

    def _state_of(self, policy: Resource) -> KindState | None:
        """Where facts derived from ``policy`` alone are kept for later matchers: its kind's
        state (kept across compiles while the policy is the same object), else None."""
        state = self._states.get(policy.kind)
        return state if state is not None and id(policy) in state.refs else None

    def outbound(self, policies: PolicySet, service: str) -> Merged | None:
        """Merged ``to[].default`` of ``policies`` for traffic to ``service``."""
        policies = self._relevant(policies, service)
        per_service = self._to.setdefault(tuple(id(p) for p in policies), {})
        if service in per_service:
            return per_service[service]
        entries = [
            e
            for p in policies
            if id(p) not in self._route_targets
            for e in _entries(p, Section.TO)
            if to_applies(e[2], service, self.index.destinations.get(service))
        ]
        contributions = [
            Contribution(p, (*p.spec_path, Section.TO.value, i, "default"), _default(e))
            for p, i, e in sort_entries(entries)
            if "default" in e
        ]
        merged = merge(contributions) if contributions else None
        per_service[service] = merged
        return merged

    def route_confs(self, policies: PolicySet, service: str) -> dict[str, Merged]:
        """Per-route confs for ``service`` from policies whose top-level targetRef is a
        MeshHTTPRoute, keyed by the route rule's ``matches`` key (:class:`KeyedRule.key`).

        Kuma 2.14 ``core/rules/rules.go`` ``buildToListWithRoutes``: every ``to[].default``
        of such a policy becomes an item for ``{kuma.io/service: S, __rule-matches-hash__:
        H}`` per rule (matches hash H) of each MeshHTTPRoute ``to[]`` entry (S its service;
        a ``Mesh`` entry: any service); the route named H then takes the merge of every item
        its element contains (``DeprecatedListenerConfigurer`` / ``DeprecatedConfigurer``
        ``getConf(element.WithKeyValue(RuleMatchesHashTag, route.Name))``): the service's
        conf followed by these items, in policy order (MeshHTTPRoute ranks last).
        """
        per_route = tuple(p for p in policies if self._route_targets.get(id(p)) is not None)
        if not per_route:
            return {}
        key = (tuple(id(p) for p in policies), service)
        hit = self._routes.get(key)
        if hit is not None:
            return hit
        by_route: dict[str, list[Contribution]] = {}
        for p in per_route:
            route = self._route_targets[id(p)]
            assert route is not None
            defaults = [
                Contribution(p, (*p.spec_path, Section.TO.value, i, "default"), _default(e))
                for _, i, e in _entries(p, Section.TO)
                if "default" in e
            ]
            for _, _, entry in _entries(route, Section.TO):
                if not to_applies(entry, service, self.index.destinations.get(service)):
                    continue
                for rule in _rules(entry):
                    by_route.setdefault(rule_key(mapping(rule).get("matches")), []).extend(defaults)
        base = self.outbound(policies, service)
        base_contributions = base.contributions if base is not None else ()
        result = {k: merge([*base_contributions, *c]) for k, c in by_route.items()}
        self._routes[key] = result
        return result

    def http_rules(self, policies: PolicySet, service: str) -> list[KeyedRule]:
        """MeshHTTPRoute rules for ``service``, merged by ``matches`` (most specific first)."""
        policies = self._relevant(policies, service)
        key = (tuple(id(p) for p in policies), service)
        if key not in self._http:
            entries = [
                e
                for p in policies
                for e in _entries(p, Section.TO)
                if to_applies(e[2], service, self.index.destinations.get(service))
            ]
            self._http[key] = merge_rules_by_matches(
                (p, (*p.spec_path, Section.TO.value, i, "rules"), _rules(e))
                for p, i, e in sort_entries(entries)
            )
        return self._http[key]

    def tcp_route(self, policies: PolicySet, service: str) -> Merged | None:
        """Merged MeshTCPRoute ``to[].rules[0].default`` for ``service`` (the last one wins)."""
        policies = self._relevant(policies, service)
        key = (tuple(id(p) for p in policies), service)
        if key not in self._tcp:
            entries = [
                e
                for p in policies
                for e in _entries(p, Section.TO)
                if to_applies(e[2], service, self.index.destinations.get(service))
            ]
            contributions = [
                Contribution(p, (*p.spec_path, "to", i, "rules", 0, "default"), _default(rules[0]))
                for p, i, e in sort_entries(entries)
                if (rules := _rules(e)) and isinstance(rules[0], dict)
            ]
            self._tcp[key] = merge(contributions) if contributions else None
        return self._tcp[key]

    def single(self, policies: PolicySet) -> Merged | None:
        """Merged top-level ``spec.default`` of ``policies`` (least specific first, the last
        wins): Kuma's ``BuildSingleItemRules``, one rule for the whole proxy (MeshMetric,
        MeshTrace); None when none of them has one. Memoised per policy set."""
        key = tuple(id(p) for p in policies)
        if key in self._single:
            return self._single[key]
        contributions = [
            Contribution(p, (*p.spec_path, "default"), _default(p.spec))
            for p in policies
            if "default" in p.spec
        ]
        merged = merge(contributions) if contributions else None
        if merged is not None and policies:
            merged = plugins()[policies[0].kind].resolve(merged, self.index)
        self._single[key] = merged
        return merged

    def single_inbound(self, policies: PolicySet, proxy: Proxy, inbound: Inbound) -> Merged | None:
        """:meth:`single` for one inbound: Kuma's ``buildListenerScopedSingleItemRules``
        leaves out ``Dataplane`` targetRefs whose ``sectionName`` names another inbound
        (every other policy selecting the proxy applies to all its inbounds)."""
        chosen = tuple(
            p
            for p in policies
            if self._refs[id(p)].get("kind") != "Dataplane"
            or not self._refs[id(p)].get("sectionName")
            or inbound.index in selected_inbounds(self._refs[id(p)], proxy.resource)
        )
        return self.single(chosen if len(chosen) != len(policies) else policies)

    def _selects_inbound(self, policy: Resource, proxy: Proxy, inbound: Inbound) -> bool:
        ref = self._refs[id(policy)]
        kind = ref.get("kind", "Mesh")
        if kind == "Mesh" and "proxyTypes" not in ref:
            return True
        if kind == "MeshService":
            return bool(ref.get("name") == inbound.service)
        return inbound.index in selected_inbounds(ref, proxy.resource)

    def _inbound_policies(self, policies: PolicySet, proxy: Proxy, inbound: Inbound) -> PolicySet:
        """The policies of ``policies`` (which select ``proxy``) that select ``inbound``.

        Only refs that can tell inbounds apart need a check; a proxy with one inbound is
        selected through it, so only ``Dataplane`` refs with ``sectionName`` are checked.
        """
        single = len(proxy.inbounds) == 1
        key = (id(policies), single)
        interned = self._sets_by_id.get(id(policies)) is policies
        checks = self._inbound_checks.get(key) if interned else None
        if checks is None:
            checks = tuple(
                i for i, p in enumerate(policies) if self._needs_inbound_check(p, single)
            )
            if interned:
                self._inbound_checks[key] = checks
        drop = {i for i in checks if not self._selects_inbound(policies[i], proxy, inbound)}
        if not drop:
            return policies
        return tuple(p for i, p in enumerate(policies) if i not in drop)

    def _needs_inbound_check(self, policy: Resource, single_inbound: bool) -> bool:
        ref = self._refs[id(policy)]
        kind = ref.get("kind", "Mesh")
        if kind == "Mesh":
            return "proxyTypes" in ref
        if kind == "Dataplane":
            return ref.get("sectionName") is not None
        return not single_inbound

    def inbound(
        self,
        policies: PolicySet,
        proxy: Proxy,
        inbound: Inbound,
        *,
        peer_rules: bool = False,
        matched_rules: bool = False,
    ) -> tuple[Merged | None, tuple[Skip, ...]]:
        """Merged ``from[]`` / ``rules[]`` conf for ``inbound``, and the parts skipped.

        With ``peer_rules`` (a kind whose ``from[]`` may name clients, MeshFaultInjection),
        ``from[]`` entries are cut into Kuma's subset rules (:func:`peer_rules_conf`), and a
        policy set using ``rules[]`` ignores ``from[]`` (Kuma reads ``InboundRules`` then).
        """
        chosen = self._inbound_policies(policies, proxy, inbound)
        if chosen is policies and self._sets_by_id.get(id(policies)) is policies:
            memo_key: tuple[Any, ...] = ("set", id(policies), peer_rules, matched_rules)
        else:
            memo_key = (peer_rules, matched_rules, *(id(p) for p in chosen))
        hit = self._from.get(memo_key)
        if hit is not None:
            return hit
        result = (
            _peer_inbound(chosen)
            if peer_rules
            else _mesh_inbound(chosen, matched_rules=matched_rules)
        )
        self._from[memo_key] = result
        return result


def _mesh_inbound(
    chosen: PolicySet, *, matched_rules: bool = False
) -> tuple[Merged | None, tuple[Skip, ...]]:
    """``from[]`` entries targeting ``Mesh`` and ``rules[]`` without matches, merged; with
    ``matched_rules`` the rules with ``spiffeID`` matches are listed alongside
    (:mod:`matched_routes`)."""
    notes: list[Skip] = []
    contributions: list[Contribution] = []
    matched: list[tuple[Mapping[str, Any], Contribution]] = []
    # Only ``Mesh`` from-entries apply, so entry ranks are equal: policy order decides.
    for p in chosen:
        for _, i, e in _entries(p, Section.FROM):
            ref = mapping(e.get("targetRef"))
            if ref.get("kind", "Mesh") != "Mesh":
                notes.append(Skip(p, (*p.spec_path, "from", i, "targetRef"), NEEDS_IDENTITY))
            elif "default" in e:
                contributions.append(
                    Contribution(p, (*p.spec_path, "from", i, "default"), _default(e))
                )
        for _, i, rule in _entries(p, Section.RULES):
            where = (*p.spec_path, "rules", i)
            matches = rule.get("matches")
            if not matches:
                contributions.append(Contribution(p, (*where, "default"), _default(rule)))
            elif not matched_rules:
                notes.append(Skip(p, (*where, "matches"), NEEDS_IDENTITY))
            else:
                for k, m in enumerate(matches if isinstance(matches, list) else ()):
                    if isinstance(m, Mapping) and isinstance(m.get("spiffeID"), Mapping):
                        c = Contribution(p, (*where, "default"), _default(rule))
                        matched.append((m, c))
                    else:
                        notes.append(Skip(p, (*where, "matches", k), SNI_ONLY))
    merged = merge(contributions) if contributions else None
    if not matched:
        return merged, tuple(notes)
    matched.sort(key=lambda mc: matched_routes.sort_key(mc[0]))
    conf: dict[str, Any] = dict(merged.conf) if merged is not None else {}
    conf[matched_routes.MATCHED_RULES] = [
        {"match": dict(m), "default": dict(c.conf)} for m, c in matched
    ]
    if not contributions:
        conf[matched_routes.SKIP_COMMON] = True
    by_rule = {c.path: c for _, c in matched}  # a rule with several matches counts once
    everything = (*contributions, *by_rule.values())
    origins = merged.origins if merged is not None else {}
    return Merged(conf, origins, tuple(everything), canonical(conf)), tuple(notes)


def _inbound_rules(chosen: PolicySet) -> tuple[Merged | None, tuple[Skip, ...]]:
    """Kuma ``inbound.BuildRules``: each ``rules[]`` entry of the policies (least specific
    first), one rule per match, stable-sorted by ``CompareMatch`` (spiffeID Exact, Prefix,
    then rules without match); each rule keeps its own ``default`` (not merged):
    ``{inboundRules: [{match, default, kri}]}``."""
    notes: list[Skip] = []
    rules: list[tuple[Mapping[str, Any] | None, Contribution]] = []
    for p in chosen:
        for _, i, _e in _entries(p, Section.FROM):
            notes.append(Skip(p, (*p.spec_path, "from", i), FROM_WITH_RULES))
        for _, i, rule in _entries(p, Section.RULES):
            where = (*p.spec_path, "rules", i)
            c = Contribution(p, (*where, "default"), _default(rule))
            matches = rule.get("matches")
            if not matches:
                rules.append((None, c))
                continue
            for k, m in enumerate(matches if isinstance(matches, list) else ()):
                if isinstance(m, Mapping) and isinstance(m.get("spiffeID"), Mapping):
                    rules.append((m, c))
                else:
                    notes.append(Skip(p, (*where, "matches", k), SNI_ONLY))
    if not rules:
        return None, tuple(notes)
    rules.sort(key=lambda r: matched_routes.sort_key(r[0]) if r[0] is not None else (2, 2))
    conf = {
        INBOUND_RULES: [
            {
                "match": dict(m) if m is not None else None,
                "default": dict(c.conf),
                "kri": kri(c.resource),
            }
            for m, c in rules
        ]
    }
    by_rule = {c.path: c for _, c in rules}
    return Merged(conf, {}, tuple(by_rule.values()), canonical(conf)), tuple(notes)


def _peer_inbound(chosen: PolicySet) -> tuple[Merged | None, tuple[Skip, ...]]:
    """Kuma 2.14 (meshfaultinjection ``applyToInbounds``): with ``rules[]`` in any selecting
    policy only ``rules[]`` count; else the ``from[]`` entries' subset rules."""
    if any(_entries(p, Section.RULES) for p in chosen):
        return _inbound_rules(chosen)
    items: list[tuple[Subset, Contribution]] = []
    for p in chosen:
        for _, i, e in _entries(p, Section.FROM):
            subset = ref_subset(mapping(e.get("targetRef")))
            if subset is not None and "default" in e:
                items.append(
                    (subset, Contribution(p, (*p.spec_path, "from", i, "default"), _default(e)))
                )
    if not items:
        return None, ()
    if all(not subset for subset, _ in items):
        return merge([c for _, c in items]), ()
    return peer_rules_conf(build_rules(items)), ()


def peer_rules_conf(rules: Sequence[SubsetRule[Contribution]]) -> Merged:
    """One conf holding Kuma's subset rules: ``{subsetRules: [{subset, default}]}`` in rule
    order, ``subset`` a list of ``[tag, value, negated]``; provenance kept per rule."""
    out: list[dict[str, Any]] = []
    origins: dict[FieldPath, tuple[Origin, ...]] = {}
    contributions: dict[tuple[int, FieldPath], Contribution] = {}
    for n, rule in enumerate(rules):
        merged = merge(rule.items)
        out.append({"subset": [list(t) for t in rule.subset], "default": dict(merged.conf)})
        for path, where in merged.origins.items():
            origins[(SUBSET_RULES, n, "default", *path)] = where
        for c in rule.items:
            contributions.setdefault((id(c.resource), c.path), c)
    conf = {SUBSET_RULES: out}
    return Merged(conf, origins, tuple(contributions.values()), canonical(conf))


def rule_key(matches: Any) -> str:
    """The key of a MeshHTTPRoute rule's ``matches`` (as :func:`merge_rules_by_matches`)."""
    return canonical(
        [m for m in matches if isinstance(m, Mapping)] if isinstance(matches, list) else []
    )


def route_target(policy: Resource, index: MeshIndex) -> Resource | None:
    """The MeshHTTPRoute a top-level ``targetRef: {kind: MeshHTTPRoute, name}`` names, if
    the mesh has it (Kuma ``resolveMeshHTTPRouteRef``)."""
    ref = target_ref(policy)
    if ref.get("kind") != MESH_HTTP_ROUTE:
        return None
    return next(
        (r for r in index.policies.get(MESH_HTTP_ROUTE, ()) if r.name == ref.get("name")), None
    )


def selection_ref(policy: Resource, index: MeshIndex) -> Mapping[str, Any]:
    """The targetRef deciding which proxies ``policy`` selects: its own, or for a
    MeshHTTPRoute target that route's top-level targetRef (Kuma ``DppSelectedByPolicy``
    recursing on the resolved route; an unresolved route selects nothing)."""
    ref = target_ref(policy)
    if ref.get("kind") != MESH_HTTP_ROUTE:
        return ref
    route = route_target(policy, index)
    return target_ref(route) if route is not None else ref


def _default(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    value = entry.get("default")
    return value if isinstance(value, dict) else {}


def _rules(entry: Mapping[str, Any]) -> list[Any]:
    value = entry.get("rules")
    return value if isinstance(value, list) else []
