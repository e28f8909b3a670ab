"""The shipped schema files: valid 2020-12, documented, closed, one per kind; `schema --all`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from reconciler.cli.main import main
from reconciler.kinds import CATALOG, Scope
from reconciler.validate.schema_files import SCHEMA_BASE_URL, combined_schema, load_schema

KINDS = list(CATALOG)

FREE_FORM = {
    # Kuma passes these to a backend plugin as google.protobuf.Struct; the reconciler
    # ignores Mesh/Dataplane metrics, tracing and logging (with a warning).
    ("Mesh", "logging.backends[].conf"),
    ("Mesh", "metrics.backends[].conf"),
    ("Mesh", "tracing.backends[].conf"),
    ("Mesh", "mtls.backends[].conf"),  # typed by `type` (builtin/provided) via if/then
    ("Dataplane", "metrics.conf"),
}


def nodes(schema: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any], bool]]:
    """(instance path, node, is a property) for every subschema that describes a value."""
    if not isinstance(schema, dict):
        return
    for name, sub in schema.get("properties", {}).items():
        sub_path = f"{path}.{name}" if path else name
        yield sub_path, sub, True
        yield from nodes(sub, sub_path)
    if isinstance(schema.get("items"), dict):
        yield f"{path}[]", schema["items"], False
        yield from nodes(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from nodes(schema["additionalProperties"], f"{path}{{}}")
    for keyword in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(keyword, []):
            yield from nodes(branch, path)
            for keyword in ("then", "else"):  # `if` only tests, it describes nothing
                if isinstance(branch, dict) and keyword in branch:
                    yield from nodes(branch[keyword], path)


@pytest.mark.parametrize("kind", KINDS)
def test_schema_is_valid_draft_2020_12(kind: str) -> None:
    schema = load_schema(kind)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"{SCHEMA_BASE_URL}{kind}.schema.json"
    assert schema["title"] == kind
    assert schema["description"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_property_has_a_description(kind: str) -> None:
    assert any("." in path for path, _, _ in nodes(load_schema(kind)))  # nested fields too
    missing = [
        path
        for path, node, is_property in nodes(load_schema(kind))
        if is_property and not str(node.get("description", "")).strip()
    ]
    assert missing == []


@pytest.mark.parametrize("kind", KINDS)
def test_unknown_fields_are_errors_everywhere(kind: str) -> None:
    open_objects = [
        path
        for path, node, _ in [("", load_schema(kind), True), *nodes(load_schema(kind))]
        if (node.get("type") == "object" or "properties" in node)
        and node.get("additionalProperties", True) is True
        and (kind, path) not in FREE_FORM
    ]
    assert open_objects == []


@pytest.mark.parametrize("kind", KINDS)
def test_envelope(kind: str) -> None:
    schema = load_schema(kind)
    props = schema["properties"]
    assert props["type"]["const"] == kind
    for read_only in ("creationTime", "modificationTime"):
        assert props[read_only]["format"] == "date-time"
    spec = CATALOG[kind]
    assert ("mesh" in props) == (spec.scope is Scope.MESH)
    if spec.flat:
        assert "spec" not in props
    else:
        assert schema["required"] == ["type", "name", "spec"]
    if spec.scope is Scope.MESH and not spec.flat:
        assert props["mesh"]["default"] == "default"


def test_one_schema_file_per_kind() -> None:
    from importlib import resources

    files = {
        p.name
        for p in (resources.files("reconciler") / "schemas").iterdir()
        if p.name.endswith(".json")
    }
    assert files == {f"{k}.schema.json" for k in KINDS}


def test_int_or_string_fields_accept_both() -> None:
    schema = load_schema("MeshCircuitBreaker")
    threshold = schema["properties"]["spec"]["properties"]["to"]["items"]["properties"]["default"][
        "properties"
    ]["outlierDetection"]["properties"]["healthyPanicThreshold"]
    validator = Draft202012Validator(threshold)
    assert validator.is_valid(50) and validator.is_valid("50.5")
    assert not validator.is_valid([50])


def test_combined_schema_dispatches_on_type() -> None:
    schema = combined_schema(KINDS)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    good = {"type": "MeshTimeout", "name": "t", "spec": {"targetRef": {"kind": "Mesh"}}}
    assert validator.is_valid(good)
    typo = {"type": "MeshTimeout", "name": "t", "spec": {"targetRef": {"kind": "Mesh"}, "too": []}}
    assert not validator.is_valid(typo)
    assert not validator.is_valid({"type": "MeshTimeouts", "name": "t", "spec": {}})
    # each kind is embedded, so editors need nothing but this file
    assert "$ref" not in json.dumps(schema["$defs"])


def test_cli_prints_all_and_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--all"]) == 0
    combined = json.loads(capsys.readouterr().out)
    assert combined["$id"] == f"{SCHEMA_BASE_URL}all.schema.json"
    assert set(combined["$defs"]) == set(KINDS)
    assert main(["schema", "meshtimeout"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "MeshTimeout"
    assert main(["schema", "--all", "Mesh"]) == 2
