"""Every kind is complete, and the registries are derived from the kind folders.

A kind's folder holds its spec (``KIND``), its validation cases (positive and at least three
negative) and either a compile step (``plugin.py`` and a focused golden mesh) or an explicit
"accepted, not applied" declaration; its schema is ``schemas/<Kind>.schema.json``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.compile.plugins import plugins
from reconciler.kinds import CATALOG, KindSpec, part
from reconciler.model import Kind
from reconciler.validate.schema_files import schema_dir

ROOT = Path(__file__).resolve().parents[2]
KINDS = ROOT / "reconciler" / "kinds"
SAMPLE_TYPES = {
    line.split(":", 1)[1].strip()
    for path in (ROOT / "sample-repo").rglob("*.yaml")
    for line in path.read_text().splitlines()
    if line.startswith("type:")
}


@pytest.mark.parametrize("spec", list(CATALOG.values()), ids=list(CATALOG))
def test_every_kind_is_complete(spec: KindSpec) -> None:
    folder = KINDS / spec.package
    assert (ROOT / "schemas" / f"{spec.name}.schema.json").is_file(), "schema"
    assert list((folder / "cases" / "positive").glob("*.yaml")), "positive cases"
    assert len(list((folder / "cases" / "negative").glob("*.yaml"))) >= 3, "negative cases"
    assert spec.summary, "docs line"
    if not spec.is_policy:
        return
    if spec.applied:
        assert part(spec, "plugin") is not None, f"{folder}/plugin.py (or declare not_applied)"
        assert plugins()[spec.name].kind == spec.name
        golden = folder / "golden"
        assert (golden / "input.yaml").is_file(), f"no focused golden mesh {golden}/input.yaml"
        assert list(golden.glob("*.golden.yaml")), f"no golden output in {golden}"
        assert spec.name in SAMPLE_TYPES, f"no `type: {spec.name}` example in sample-repo/"
    else:
        assert part(spec, "plugin") is None, "a kind declared not applied has no plugin"


def test_registry_is_derived_from_the_folders() -> None:
    folders = sorted(p.parent.name for p in KINDS.glob("*/__init__.py"))
    assert sorted(spec.package for spec in CATALOG.values()) == folders
    assert set(plugins()) == {n for n, s in CATALOG.items() if s.is_policy and s.applied}


def test_named_kinds_are_in_the_catalogue() -> None:
    assert {k.value for k in Kind} <= set(CATALOG)


def test_every_schema_file_belongs_to_a_kind() -> None:
    files = {p.name.removesuffix(".schema.json") for p in (ROOT / "schemas").glob("*.schema.json")}
    assert files == set(CATALOG)
    assert Path(str(schema_dir())).resolve() == ROOT / "schemas"
    link = ROOT / "reconciler" / "schemas"
    assert link.is_symlink() and link.readlink() == Path("../schemas"), "one source of truth"
