"""RFC 6902 JSON Patch with Kuma's options (``core/jsonpatch/merge.go`` runs evanphx/json-patch
v5 with SupportNegativeIndices, AllowMissingPathOnRemove and EnsurePathExistsOnAdd)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from reconciler.kinds.mesh_proxy_patch.json_patch import JsonPatchError, apply_patch

DOC: dict[str, Any] = {"a": {"b": [1, 2, 3]}, "c": "x", "d~e/f": 1}


def patched(*operations: dict[str, Any]) -> Any:
    return apply_patch(copy.deepcopy(DOC), list(operations))


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        # RFC 6902 section 4 operations
        ({"op": "add", "path": "/c", "value": "y"}, {**DOC, "c": "y"}),
        ({"op": "add", "path": "/a/b/1", "value": 9}, {**DOC, "a": {"b": [1, 9, 2, 3]}}),
        ({"op": "add", "path": "/a/b/-", "value": 4}, {**DOC, "a": {"b": [1, 2, 3, 4]}}),
        ({"op": "remove", "path": "/c"}, {"a": {"b": [1, 2, 3]}, "d~e/f": 1}),
        ({"op": "replace", "path": "/a/b/0", "value": 0}, {**DOC, "a": {"b": [0, 2, 3]}}),
        ({"op": "move", "from": "/c", "path": "/m"}, {"a": {"b": [1, 2, 3]}, "d~e/f": 1, "m": "x"}),
        ({"op": "copy", "from": "/a/b", "path": "/k"}, {**DOC, "k": [1, 2, 3]}),
        ({"op": "test", "path": "/c", "value": "x"}, DOC),
        ({"op": "remove", "path": "/d~0e~1f"}, {"a": {"b": [1, 2, 3]}, "c": "x"}),  # escapes
        # SupportNegativeIndices
        ({"op": "replace", "path": "/a/b/-1", "value": 7}, {**DOC, "a": {"b": [1, 2, 7]}}),
        ({"op": "remove", "path": "/a/b/-3"}, {**DOC, "a": {"b": [2, 3]}}),
        ({"op": "add", "path": "/a/b/-1", "value": 8}, {**DOC, "a": {"b": [1, 2, 3, 8]}}),
        # AllowMissingPathOnRemove
        ({"op": "remove", "path": "/nope/deeper"}, DOC),
        ({"op": "remove", "path": "/a/b/10"}, DOC),
        # EnsurePathExistsOnAdd: objects, or arrays when the next token is an index or "-"
        ({"op": "add", "path": "/n/o/p", "value": 1}, {**DOC, "n": {"o": {"p": 1}}}),
        ({"op": "add", "path": "/l/-", "value": 1}, {**DOC, "l": [1]}),
        ({"op": "add", "path": "/l/2", "value": 1}, {**DOC, "l": [None, None, 1]}),
    ],
)
def test_operations(operation: dict[str, Any], expected: Any) -> None:
    assert patched(operation) == expected


def test_operations_apply_in_order_and_the_root_may_be_replaced() -> None:
    assert patched(
        {"op": "add", "path": "/z", "value": {"q": 1}},
        {"op": "copy", "from": "/z/q", "path": "/y"},
    ) == {**DOC, "z": {"q": 1}, "y": 1}
    assert patched({"op": "replace", "path": "", "value": {"new": True}}) == {"new": True}


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        ({"op": "replace", "path": "/missing", "value": 1}, "replace /missing: missing key"),
        ({"op": "test", "path": "/c", "value": "other"}, "the value differs"),
        ({"op": "move", "from": "/nope", "path": "/x"}, "missing key 'nope'"),
        ({"op": "add", "path": "/a/b/9", "value": 1}, "index 9 is out of range"),
        ({"op": "remove", "path": "/a/b/x"}, "'x' is not an array index"),
        ({"op": "add", "path": "c", "value": 1}, "must start with '/'"),
        ({"op": "remove", "path": ""}, "the root cannot be removed"),
    ],
)
def test_failures_name_the_operation(operation: dict[str, Any], message: str) -> None:
    with pytest.raises(JsonPatchError, match=message.replace("(", r"\(")) as caught:
        patched({"op": "test", "path": "/c", "value": "x"}, operation)
    assert caught.value.index == 1
