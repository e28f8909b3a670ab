"""check_schema: messages, suggestions, every error at once, the fast path and its caches."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from reconciler.load import SourceFile, load_file
from reconciler.model import Kind, Position, Resource
from reconciler.pipeline import analyze_paths
from reconciler.validate import schema as schema_module
from reconciler.validate.schema import check_schema, predicate_for, validator_for
from reconciler.validate.schema_files import load_schema


def _load_generator() -> ModuleType:
    # By file name: bench/ on sys.path would shadow xds-protos' `validate` package with
    # bench/validate.py for every later test in this process.
    path = Path(__file__).resolve().parents[2] / "bench" / "generate_mesh.py"
    spec = importlib.util.spec_from_file_location("generate_mesh", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generate_mesh = _load_generator()


def load(text: str) -> Resource:
    loaded = load_file(SourceFile("r.yaml", textwrap.dedent(text).encode()))
    assert not loaded.diagnostics
    (resource,) = loaded.resources
    return resource


def resource_of(data: dict[str, Any]) -> Resource:
    return Resource(
        kind=str(data.get("type")),
        name=str(data.get("name")),
        mesh="default",
        data=data,
        file="r.yaml",
        doc_index=0,
        position=Position(1, 1),
        locator=lambda path: None,
    )


def test_unknown_field_names_the_key_and_suggests() -> None:
    resource = load(
        """
        type: MeshTimeout
        name: t
        spec:
          to:
            - targetRef: {kind: Mesh}
              default:
                http:
                  requestTimout: 10s
        """
    )
    (diag,) = check_schema(resource)
    assert diag.code == "RC201"
    assert diag.message == "unknown field 'requestTimout'; did you mean 'requestTimeout'?"
    assert diag.field == "spec.to[0].default.http.requestTimout"
    assert (diag.line, diag.col) == (9, 11)  # the key itself


def test_unknown_field_without_a_close_match_lists_the_allowed_ones() -> None:
    resource = load("type: MeshTimeout\nname: t\nspec:\n  targetRef: {kind: Mesh, zzz: 1}\n")
    (diag,) = check_schema(resource)
    assert diag.code == "RC201"
    assert diag.message.startswith("unknown field 'zzz'; allowed here: kind, labels, mesh, name")


def test_every_error_of_a_resource_is_reported_once() -> None:
    resource = load(
        """
        type: MeshRetry
        name: r
        extra: 1
        spec:
          targetRef: {kind: Nope}
          to:
            - targetRef: {kind: Mesh}
              default:
                http:
                  numRetries: "3"
                  retriableResponseHeaders: [{name: x, type: Exact, value: ""}]
                  rateLimitedBackOff: {resetHeaders: [{name: "", format: Seconds}]}
                grpc: {retryOn: [Sometimes]}
        """
    )
    found = sorted((d.code, d.field) for d in check_schema(resource))
    assert found == [
        ("RC201", "extra"),
        ("RC203", "spec.to[0].default.http.numRetries"),
        ("RC204", "spec.targetRef.kind"),
        ("RC204", "spec.to[0].default.grpc.retryOn[0]"),
        ("RC205", "spec.to[0].default.http.rateLimitedBackOff.resetHeaders[0].name"),
        ("RC207", "spec.to[0].default.http.rateLimitedBackOff.resetHeaders[0].name"),
    ]


def test_messages_are_short_and_never_dump_mappings() -> None:
    resource = load(
        """
        type: MeshTimeout
        name: t
        spec:
          targetRef: {kind: Mesh}
          to: {targetRef: {kind: Mesh}, default: {idleTimeout: 1s, http: {requestTimeout: 2s}}}
        """
    )
    (diag,) = check_schema(resource)
    assert diag.code == "RC203"
    assert diag.message == "expected a list, got a mapping"


def test_enum_lists_allowed_values_and_suggests() -> None:
    resource = load("type: MeshTimeout\nname: t\nspec:\n  targetRef: {kind: MeshServce}\n")
    (diag,) = check_schema(resource)
    assert diag.message.startswith("value 'MeshServce' is not supported; allowed: Mesh, MeshSubset")
    assert diag.message.endswith("(did you mean 'MeshService'?)")


def test_alternatives_report_the_branch_the_value_is_meant_for() -> None:
    # a proto enum accepts a name or a number: a wrong name is an enum error, not "anyOf"
    resource = load(
        "type: Dataplane\nmesh: default\nname: d\nnetworking:\n  gateway: {type: BUILTINN}\n"
    )
    (diag,) = check_schema(resource)
    assert (diag.code, diag.field) == ("RC204", "networking.gateway.type")
    assert "did you mean 'BUILTIN'" in diag.message
    resource = load(
        "type: Dataplane\nmesh: default\nname: d\nnetworking:\n  gateway: {type: [1]}\n"
    )
    (diag,) = check_schema(resource)
    assert (diag.code, diag.message) == ("RC203", "expected a string or an integer, got a list")


def test_one_of_data_source_is_one_clear_message() -> None:
    resource = load(
        """
        type: Mesh
        name: m
        mtls:
          backends:
            - name: ca
              type: provided
              conf: {cert: {}, key: {secret: k}}
        """
    )
    (diag,) = check_schema(resource)
    assert diag.code == "RC208"
    assert diag.message == "set one of secret, file, inline, inlineString"


def test_data_source_with_several_sources_is_accepted_as_jsonpb_reads_it() -> None:
    # Kuma's jsonpb keeps the last given member of a oneof; it never rejects several
    resource = load(
        """
        type: Mesh
        name: m
        mtls:
          backends:
            - name: ca
              type: provided
              conf: {cert: {secret: c, inline: YQ==}, key: {secret: k}}
        """
    )
    assert check_schema(resource) == []


def test_required_names_every_missing_field() -> None:
    diags = check_schema(resource_of({"type": "MeshTimeout"}))
    assert sorted((d.code, d.field) for d in diags) == [("RC202", "name"), ("RC202", "spec")]


def test_export_timestamps_are_checked() -> None:
    good = {"type": "Mesh", "name": "m", "creationTime": "2024-05-06T07:08:09.5Z"}
    assert check_schema(resource_of(good)) == []
    go_nanos = {**good, "modificationTime": "2024-05-06T07:08:09.123456789+02:00"}
    assert check_schema(resource_of(go_nanos)) == []
    bad = {**good, "creationTime": "yesterday"}
    (diag,) = check_schema(resource_of(bad))
    assert (diag.code, diag.field) == ("RC205", "creationTime")


def test_unknown_kind_is_left_to_the_loader() -> None:
    assert check_schema(resource_of({"type": "MeshWidget", "name": "g"})) == []


def test_validators_are_built_lazily_and_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schema_module, "_VALIDATORS", {})
    valid = load("type: MeshTimeout\nname: t\nspec:\n  targetRef: {kind: Mesh}\n")
    assert check_schema(valid) == []
    assert schema_module._VALIDATORS == {}  # a valid resource never needs jsonschema
    assert predicate_for("MeshTimeout") is predicate_for("MeshTimeout")
    broken = resource_of({"type": "MeshTimeout", "name": "t", "spec": {"x": 1}})
    assert check_schema(broken)
    assert set(schema_module._VALIDATORS) == {"MeshTimeout"}
    assert validator_for("MeshTimeout") is schema_module._VALIDATORS["MeshTimeout"]
    assert load_schema("MeshTimeout") is load_schema("MeshTimeout")


def test_importing_the_schema_stage_does_not_import_jsonschema() -> None:
    code = "import sys, reconciler.validate.schema; print('jsonschema' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "False"


# --- the benchmark repository is valid ------------------------------------------------


def test_generated_repository_is_valid_and_deterministic(tmp_path: Path) -> None:
    generate_mesh.generate(tmp_path / "a", dataplanes=30, services=10, policies=33, seed=3)
    generate_mesh.generate(tmp_path / "b", dataplanes=30, services=10, policies=33, seed=3)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.yaml"))
    assert len(files_a) == 1 + 30 + 33
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
    kinds = {p.parts[1] for p in files_a if p.parts[0] == "policies"}
    assert kinds == {k.value.lower() for k in Kind} - {"mesh", "dataplane"}
    analysis = analyze_paths([tmp_path / "a"])
    assert [d.format_text() for d in analysis.diagnostics if d.severity == "error"] == []
    assert len(analysis.resources) == 64


def test_alternatives_prefer_the_branch_named_by_the_discriminator() -> None:
    from jsonschema import Draft202012Validator

    from reconciler.validate.schema_errors import diagnose

    schema = {
        "oneOf": [
            {
                "type": "object",
                "properties": {"type": {"const": "File"}, "path": {"type": "string"}},
                "required": ["type", "path"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "properties": {"type": {"const": "Tcp"}, "address": {"type": "string"}},
                "required": ["type", "address"],
                "additionalProperties": False,
            },
            False,
        ]
    }
    validator = Draft202012Validator(schema)
    (error,) = validator.iter_errors({"type": "Tcp", "adress": "x"})
    assert sorted(diagnose(error)) == [
        ("RC201", ("adress",), "unknown field 'adress'; did you mean 'address'?"),
        ("RC202", ("address",), "required field 'address' is missing"),
    ]
    (error,) = validator.iter_errors({"type": "Udp"})
    assert diagnose(error) == [("RC208", (), "a mapping matches none of the allowed alternatives")]


def test_a_schema_rule_without_its_own_message_is_still_reported() -> None:
    """RC209: a keyword no message is written for (none of our schemas uses one today, so
    a schema that adds one is still reported, never dropped)."""
    from jsonschema import Draft202012Validator

    from reconciler.validate.schema_errors import diagnose

    validator = Draft202012Validator({"type": "array", "uniqueItems": True})
    (error,) = validator.iter_errors(["a", "a"])
    assert diagnose(error) == [("RC209", (), "value violates the schema rule 'uniqueItems'")]
