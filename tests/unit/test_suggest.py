"""Suggestions only for near misses; never an unrelated kind."""

from __future__ import annotations

import pytest

from reconciler.kinds import KNOWN_KINDS
from reconciler.suggest import distance, suggest


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("MeshTimeOut", "MeshTimeout"),
        ("meshretry", "MeshRetry"),
        ("MeshServce", "MeshService"),
        ("MeshHttpRoute", "MeshHTTPRoute"),
        ("MeshGatway", "MeshGateway"),
        ("Deployment", None),
        ("Mesh2", "Mesh"),
        ("Foo", None),
        ("MeshTrafficPermision", "MeshTrafficPermission"),
    ],
)
def test_kind_suggestions(word: str, expected: str | None) -> None:
    assert suggest(word, KNOWN_KINDS) == expected


def test_a_far_word_gets_no_suggestion_even_among_few_candidates() -> None:
    assert suggest("MeshGateway", ["MeshRetry", "Mesh"]) is None


def test_distance_counts_a_swap_once() -> None:
    assert distance("Mehs", "Mesh") == 1
    assert distance("kitten", "sitting") == 3
