"""Kuma's subset rules: ``from[]`` entries cut into disjoint groups of clients (Kuma 2.14).

Source: Kuma ``pkg/plugins/policies/core/rules/rules.go`` (``BuildRules`` with negations,
``createRule``, ``sortComponents``) and ``rules/subsetutils/subset.go`` (``Subset``,
``IsSubset``, ``Intersect``, ``SubsetIter``):

1. each item's targetRef becomes a subset of client tags (``Mesh`` -> none,
   ``MeshService`` -> ``kuma.io/service``, ``MeshSubset`` -> its tags, ``MeshServiceSubset``
   -> both);
2. subsets that can hold a common client are linked; the maximal cliques of that graph
   (Bron-Kerbosch) are taken, each clique's node ids sorted, the cliques sorted by their ids
   joined with ``:`` **descending as strings**;
3. per clique, the union of its tags sorted by (key, value) is iterated with ``SubsetIter``:
   per key, one positive value (last value first) or all values negated, the first key
   changing fastest, the all-positive combination last;
4. each combination gets the merge, in item order, of every item whose subset contains it;
   combinations no item covers are dropped;
5. the rules are sorted (stably) by their number of positive tags, most first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from reconciler.targetref import SERVICE_TAG

SUBSET_RULES = "subsetRules"
"""The key of an inbound conf holding subset rules (``{subsetRules: [{subset, default}]}``)."""

INBOUND_RULES = "inboundRules"
"""The key of an inbound conf holding Kuma's inbound rules (``{inboundRules: [{match,
default, kri}]}``): MeshFaultInjection when a selecting policy has ``rules[]``."""

Tag = tuple[str, str, bool]
"""``(key, value, negated)``: a client has ``key: value`` (or not, when negated)."""
Subset = tuple[Tag, ...]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SubsetRule(Generic[T]):
    """Clients in ``subset`` get the merge of ``items`` (in their given order)."""

    subset: Subset
    items: tuple[T, ...]

    @property
    def positive(self) -> dict[str, str]:
        return {k: v for k, v, negated in self.subset if not negated}

    @property
    def negated(self) -> dict[str, str]:
        return {k: v for k, v, negated in self.subset if negated}


def ref_subset(ref: Mapping[str, Any]) -> Subset | None:
    """Kuma ``asSubset``: the client tags a ``from[]`` targetRef selects (None: not a tag kind)."""
    kind = ref.get("kind", "Mesh")
    tags = ref.get("tags")
    tag_items = sorted(
        (str(k), str(v)) for k, v in (tags if isinstance(tags, dict) else {}).items()
    )
    if kind == "Mesh":
        return ()
    if kind == "MeshSubset":
        return tuple((k, v, False) for k, v in tag_items)
    if kind == "MeshService":
        return ((SERVICE_TAG, str(ref.get("name", "")), False),)
    if kind == "MeshServiceSubset":
        return (
            (SERVICE_TAG, str(ref.get("name", "")), False),
            *((k, v, False) for k, v in tag_items),
        )
    return None


def is_subset(outer: Subset, inner: Subset) -> bool:
    """Kuma ``Subset.IsSubset``: every client of ``inner`` is in ``outer``."""
    if not outer:
        return True
    by_key: dict[str, list[Tag]] = {}
    for tag in inner:
        by_key.setdefault(tag[0], []).append(tag)
    for tag in outer:
        others = by_key.get(tag[0])
        if not others:
            return False
        if not all(_tag_subset(tag, other) for other in others):
            return False
    return True


def _tag_subset(t1: Tag, t2: Tag) -> bool:
    if t1[2] == t2[2]:
        return t1[1] == t2[1]
    if t1[2]:
        return t1[1] != t2[1]
    return False


def intersect(a: Subset, b: Subset) -> bool:
    """Kuma ``Subset.Intersect``: some client can be in both."""
    if not a or not b:
        return True
    positive_b: dict[str, list[Tag]] = {}
    for tag in b:
        if not tag[2]:
            positive_b.setdefault(tag[0], []).append(tag)
    for tag in a:
        if tag[2]:
            continue
        if any(other != tag for other in positive_b.get(tag[0], ())):
            return False
    return True


def contains_element(subset: Subset, element: Mapping[str, str]) -> bool:
    """Kuma ``Subset.ContainsElement``: a client with ``element`` tags is in ``subset``."""
    if not subset:
        return True
    if not element:
        return False
    overlap = False
    for key, value, negated in subset:
        if key in element:
            overlap = True
            if (element[key] == value) == negated:
                return False
        elif not negated:
            return False
    return overlap or all(negated for _, _, negated in subset)


def _maximal_cliques(n: int, edges: Sequence[set[int]]) -> list[list[int]]:
    """Every maximal clique (Bron-Kerbosch with pivot); order fixed by :func:`_sort_cliques`."""
    out: list[list[int]] = []

    def expand(r: list[int], p: set[int], x: set[int]) -> None:
        if not p and not x:
            out.append(sorted(r))
            return
        pivot = max(p | x, key=lambda u: (len(edges[u] & p), -u))
        for v in sorted(p - edges[pivot]):
            expand([*r, v], p & edges[v], x & edges[v])
            p = p - {v}
            x = x | {v}

    expand([], set(range(n)), set())
    return out


def _sort_cliques(cliques: list[list[int]]) -> list[list[int]]:
    """Kuma ``sortComponents``: ids ascending inside, cliques by ``":".join(ids)`` descending."""
    return sorted((sorted(c) for c in cliques), key=lambda c: ":".join(map(str, c)), reverse=True)


def _iterate(tags: Sequence[tuple[str, str]]) -> list[Subset]:
    """Kuma ``SubsetIter`` over ``tags`` (sorted by key, value), in its order."""
    keys: list[str] = []
    values: dict[str, list[str]] = {}
    for key, value in tags:
        if key not in values:
            keys.append(key)
            values[key] = []
        if value not in values[key]:
            values[key].append(value)
    idx = [0] * len(keys)

    def current() -> Subset:
        out: list[Tag] = []
        for i, key in enumerate(keys):
            vals = values[key]
            if idx[i] == len(vals):
                out.extend((key, v, True) for v in vals)
            else:
                out.append((key, vals[len(vals) - idx[i] - 1], False))
        return tuple(out)

    result: list[Subset] = []
    while True:
        for i, key in enumerate(keys):
            idx[i] += 1
            if idx[i] < len(values[key]) + 1:
                result.append(current())
                break
            idx[i] = 0
        else:
            result.append(current())
            return result


def build_rules(items: Sequence[tuple[Subset, T]]) -> list[SubsetRule[T]]:
    """Kuma ``BuildRules(list, withNegations=true)`` over ``(subset, item)`` in merge order."""
    if not items:
        return []
    subsets = [s for s, _ in items]
    n = len(subsets)
    edges = [
        {j for j in range(n) if j != i and intersect(subsets[i], subsets[j])} for i in range(n)
    ]
    rules: list[SubsetRule[T]] = []
    for clique in _sort_cliques(_maximal_cliques(n, edges)):
        tags = sorted({(k, v) for node in clique for k, v, _ in subsets[node]})
        for combination in _iterate(tags):
            relevant = tuple(item for subset, item in items if is_subset(subset, combination))
            if relevant:
                rules.append(SubsetRule(combination, relevant))
    rules.sort(key=lambda r: -sum(1 for _, _, negated in r.subset if not negated))
    return rules
