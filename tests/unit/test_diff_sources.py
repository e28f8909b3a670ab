from __future__ import annotations

from reconciler.diff import Action, FieldChange, diff_sources
from reconciler.load import SourceFile, load_file
from reconciler.model import Resource

TIMEOUT = """\
type: MeshTimeout
name: timeout-1
mesh: default
spec:
  targetRef:
    kind: Mesh
  to:
    - targetRef:
        kind: Mesh
      default:
        idleTimeout: {idle}
"""
MESH = "type: Mesh\nname: default\n"


def load(path: str, text: str) -> list[Resource]:
    loaded = load_file(SourceFile(path, text.encode()))
    assert not loaded.diagnostics
    return loaded.resources


def test_configured_resource_has_kuma_field_paths() -> None:
    before = load("old/t.yaml", TIMEOUT.format(idle="10s"))
    after = load("new/t.yaml", TIMEOUT.format(idle="20s"))
    (change,) = diff_sources(before, after)
    assert change.action is Action.CONFIGURED
    assert str(change.key) == "MeshTimeout default/timeout-1"
    assert (change.file, change.line) == ("new/t.yaml", 1)
    assert change.fields == (FieldChange("spec.to[0].default.idleTimeout", "10s", "20s"),)


def test_layout_only_and_moved_resources_are_not_changes() -> None:
    before = load("a.yaml", TIMEOUT.format(idle="10s"))
    reordered = "# moved and reformatted\n" + TIMEOUT.format(idle='"10s"')
    after = load("b/other.yaml", reordered)
    assert diff_sources(before, after) == []


def test_created_and_deleted_sorted_by_type_mesh_name() -> None:
    before = load("t.yaml", TIMEOUT.format(idle="1s"))
    after = load("m.yaml", MESH)
    changes = diff_sources(before, after)
    assert [(str(c.key), c.action, c.file) for c in changes] == [
        ("Mesh default", Action.CREATED, "m.yaml"),
        ("MeshTimeout default/timeout-1", Action.DELETED, "t.yaml"),
    ]


def test_true_and_1_are_different_values() -> None:
    doc = "type: Mesh\nname: default\nlabels:\n  x: {value}\n"
    before = load("m.yaml", doc.format(value="true"))
    after = load("m.yaml", doc.format(value="1"))
    (change,) = diff_sources(before, after)
    assert change.fields == (FieldChange("labels.x", True, 1),)
