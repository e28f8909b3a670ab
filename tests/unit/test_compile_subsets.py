"""Kuma's subset rules, with expected results worked from Kuma 2.14's code:
``pkg/plugins/policies/core/rules/rules.go`` (``buildRulesInternal`` with negations,
``createRule``, ``sortComponents``) and ``rules/subsetutils/subset.go`` (``SubsetIter``,
``IsSubset``, ``Intersect``, ``ContainsElement``)."""

from __future__ import annotations

from reconciler.compile.subsets import (
    build_rules,
    contains_element,
    intersect,
    is_subset,
    ref_subset,
)

SVC = "kuma.io/service"


def rules_of(
    *items: tuple[dict[str, object], str],
) -> list[tuple[tuple[tuple[str, str, bool], ...], tuple[str, ...]]]:
    built = build_rules([(s, name) for ref, name in items if (s := ref_subset(ref)) is not None])
    return [(r.subset, r.items) for r in built]


def test_mesh_only_is_one_rule_with_no_tags() -> None:
    """An empty subset: the clique of one node has no tags; the iterator yields ``{}`` once."""
    assert rules_of(({"kind": "Mesh"}, "a"), ({"kind": "Mesh"}, "b")) == [((), ("a", "b"))]


def test_mesh_and_service_give_the_service_and_everyone_else() -> None:
    """SubsetIter over [service=web]: ``!web`` first, ``web`` last; sorted by positives."""
    assert rules_of(({"kind": "Mesh"}, "all"), ({"kind": "MeshService", "name": "web"}, "web")) == [
        (((SVC, "web", False),), ("all", "web")),
        (((SVC, "web", True),), ("all",)),
    ]


def test_two_tag_keys_enumerate_every_combination_first_key_fastest() -> None:
    """Tags [team=a, zone=east]: the iterator yields {!a,east}, {a,!east}, {!a,!east},
    {a,east}; the stable sort by positive count puts {a,east} first."""
    got = rules_of(
        ({"kind": "Mesh"}, "A"),
        ({"kind": "MeshSubset", "tags": {"team": "a"}}, "B"),
        ({"kind": "MeshSubset", "tags": {"zone": "east"}}, "C"),
    )
    assert got == [
        ((("team", "a", False), ("zone", "east", False)), ("A", "B", "C")),
        ((("team", "a", True), ("zone", "east", False)), ("A", "C")),
        ((("team", "a", False), ("zone", "east", True)), ("A", "B")),
        ((("team", "a", True), ("zone", "east", True)), ("A",)),
    ]


def test_disjoint_services_are_separate_cliques_sorted_descending() -> None:
    """web and api cannot hold one client: cliques [0] and [1], sorted "1" before "0";
    the negated combinations cover no entry and are dropped."""
    got = rules_of(
        ({"kind": "MeshService", "name": "web"}, "web"),
        ({"kind": "MeshService", "name": "api"}, "api"),
    )
    assert got == [(((SVC, "api", False),), ("api",)), (((SVC, "web", False),), ("web",))]


def test_subset_relations() -> None:
    web = ((SVC, "web", False),)
    not_web = ((SVC, "web", True),)
    assert is_subset((), web) and is_subset(web, web) and not is_subset(web, not_web)
    assert is_subset(((SVC, "api", True),), web)  # {web} lies inside {!api}
    assert intersect(web, ((SVC, "web", False), ("v", "1", False)))
    assert not intersect(web, ((SVC, "api", False),))
    assert contains_element(not_web, {SVC: "api"}) and not contains_element(not_web, {SVC: "web"})
    assert ref_subset({"kind": "MeshServiceSubset", "name": "web", "tags": {"v": "1"}}) == (
        (SVC, "web", False),
        ("v", "1", False),
    )
    assert ref_subset({"kind": "MeshGateway", "name": "gw"}) is None
