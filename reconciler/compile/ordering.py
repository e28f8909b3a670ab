"""Kuma 2.14 policy ordering: least specific first, so merging in order lets the last win.

Source: Kuma ``pkg/plugins/policies/core/rules/sort/sort.go`` and ``rules/outbound/sort.go``:

1. the top-level targetRef kind (``reconciler.targetref.TOP_LEVEL_ORDER``); among ``Dataplane``
   targetRefs one by ``name`` ranks above one by ``labels``, then one with ``sectionName``
   above one without (``CompareDataplaneKind``);
2. for ``to[]`` entries, the entry's own targetRef kind (``KIND_ORDER``), and for MeshService
   an entry with ``sectionName`` above one without;
3. the policy name, **inverted** lexicographically: among equals the alphabetically smaller
   name is more specific, so it is merged last and wins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.model import Resource
from reconciler.targetref import KIND_ORDER, TOP_LEVEL_ORDER


def target_ref(resource: Resource) -> Mapping[str, Any]:
    ref = resource.spec.get("targetRef")
    return ref if isinstance(ref, dict) else {"kind": "Mesh"}


def policy_rank(resource: Resource) -> tuple[int, int, int]:
    ref = target_ref(resource)
    kind = str(ref.get("kind", "Mesh"))
    if kind != "Dataplane":
        return (TOP_LEVEL_ORDER.get(kind, 0), 0, 0)
    by_name = 1 if ref.get("name") else 0
    section = 1 if ref.get("sectionName") else 0
    return (TOP_LEVEL_ORDER.get(kind, 0), by_name, section)


def entry_rank(ref: Mapping[str, Any]) -> tuple[int, int]:
    kind = str(ref.get("kind", "Mesh"))
    section = 1 if kind == "MeshService" and ref.get("sectionName") is not None else 0
    return (KIND_ORDER.get(kind, 0), section)


def _inverted_name_first(items: list[Any], name: Any) -> None:
    # Stable sorts: first by name descending, then by rank ascending keeps names inverted.
    items.sort(key=name, reverse=True)


def sort_policies(policies: Sequence[Resource]) -> list[Resource]:
    """Policies least specific first (the last one wins)."""
    out = list(policies)
    _inverted_name_first(out, lambda r: r.name)
    out.sort(key=policy_rank)
    return out


def sort_entries(
    entries: Sequence[tuple[Resource, int, Mapping[str, Any]]],
) -> list[tuple[Resource, int, Mapping[str, Any]]]:
    """``(policy, index, entry)`` of ``to[]``/``from[]`` entries, least specific first."""
    out = list(entries)
    _inverted_name_first(out, lambda e: e[0].name)
    out.sort(key=lambda e: (*policy_rank(e[0]), *entry_rank(_ref(e[2]))))
    return out


def _ref(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = entry.get("targetRef")
    return ref if isinstance(ref, dict) else {"kind": "Mesh"}
