from __future__ import annotations

from reconciler.diff import MISSING, FieldChange, diff_values


def test_equal_values_have_no_changes() -> None:
    assert diff_values({"a": [1, {"b": 2}]}, {"a": [1, {"b": 2}]}) == []


def test_nested_scalar_change_has_dotted_path() -> None:
    old = {"spec": {"to": [{"default": {"idleTimeout": "10s"}}]}}
    new = {"spec": {"to": [{"default": {"idleTimeout": "20s"}}]}}
    assert diff_values(old, new) == [FieldChange("spec.to[0].default.idleTimeout", "10s", "20s")]


def test_added_and_removed_keys_use_missing() -> None:
    changes = diff_values({"a": 1, "gone": {"x": 1}}, {"a": 1, "new": [1]})
    assert changes == [FieldChange("gone", {"x": 1}, MISSING), FieldChange("new", MISSING, [1])]
    assert [c.op for c in changes] == ["removed", "added"]
    assert changes[0].to_json() == {"path": "gone", "op": "removed", "old": {"x": 1}}


def test_null_is_not_missing() -> None:
    (change,) = diff_values({"a": None}, {})
    assert change.old is None and change.new is MISSING
    assert change.to_json() == {"path": "a", "op": "removed", "old": None}


def test_bool_and_int_differ() -> None:
    assert diff_values({"a": True}, {"a": 1}) == [FieldChange("a", True, 1)]


def test_lists_compared_by_index_when_unnamed() -> None:
    assert diff_values([1, 2], [1, 3, 4]) == [
        FieldChange("[1]", 2, 3),
        FieldChange("[2]", MISSING, 4),
    ]


def test_named_lists_matched_by_name_not_position() -> None:
    old = {"virtual_hosts": [{"name": "a", "domains": ["*"]}, {"name": "b", "x": 1}]}
    new = {
        "virtual_hosts": [{"name": "new"}, {"name": "a", "domains": ["*"]}, {"name": "b", "x": 2}]
    }
    assert diff_values(old, new) == [
        FieldChange("virtual_hosts[0]", MISSING, {"name": "new"}),
        FieldChange("virtual_hosts[2].x", 1, 2),
    ]


def test_keys_that_are_not_identifiers_are_quoted() -> None:
    (change,) = diff_values({"labels": {"kuma.io/zone": "a"}}, {"labels": {"kuma.io/zone": "b"}})
    assert change.path == 'labels["kuma.io/zone"]'


def test_json_round_trip() -> None:
    for change in diff_values({"a": 1, "b": None}, {"a": 2, "c": {"d": []}}):
        assert FieldChange.from_json(change.to_json()) == change
