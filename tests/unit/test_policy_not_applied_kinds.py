"""MeshTrace, MeshPassthrough: accepted, not applied (MeshTLS, MeshMetric and MeshProxyPatch
are applied since; their schemas and cases are still checked here).

Kuma 2.14 accepts them; the reconciler validates them with Kuma's rules, warns once per
resource (RC320) and notes on each proxy a policy selects that it is not applied. Their
schemas compile to the fast predicate, which agrees with ``jsonschema`` on every case file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_compile_core import MESH, compile_yaml, dataplane

from reconciler import codes
from reconciler.kinds import CATALOG
from reconciler.kinds.mesh_proxy_patch.validator import value_error
from reconciler.load import SourceFile
from reconciler.pipeline import analyze
from reconciler.validate.schema import predicate_for, validator_for

KINDS = ("MeshTrace", "MeshMetric", "MeshTLS", "MeshPassthrough", "MeshProxyPatch")
APPLIED = ("MeshTLS", "MeshMetric", "MeshProxyPatch")
NOT_APPLIED_KINDS = tuple(k for k in KINDS if k not in APPLIED)
ROOT = Path(__file__).resolve().parents[2]


def _case_documents(kind: str) -> list[dict[str, object]]:
    folder = ROOT / "reconciler" / "kinds" / CATALOG[kind].package / "cases"
    files = [SourceFile(str(p), p.read_bytes()) for p in sorted(folder.rglob("*.yaml"))]
    return [dict(r.data) for r in analyze(files).resources]


@pytest.mark.parametrize("kind", KINDS)
def test_schema_compiles_to_the_fast_predicate(kind: str) -> None:
    predicate = predicate_for(kind)
    assert predicate is not None
    validator = validator_for(kind)
    documents = _case_documents(kind)
    assert len(documents) >= 5
    for doc in documents:
        assert predicate(doc) is not any(True for _ in validator.iter_errors(doc)), doc


@pytest.mark.parametrize("kind", NOT_APPLIED_KINDS)
def test_declared_not_applied_with_a_warning_per_resource(kind: str) -> None:
    spec = CATALOG[kind]
    assert spec.not_applied is not None and spec.not_applied.startswith(f"{kind}: ")
    text = f"type: {kind}\nname: p\nmesh: default\nspec:\n  targetRef:\n    kind: Mesh\n"
    text += "  default:\n    backends: []\n" if kind == "MeshTrace" else ""
    diagnostics = analyze(
        [
            SourceFile("mesh.yaml", b"type: Mesh\nname: default\n"),
            SourceFile("p.yaml", text.encode()),
        ]
    ).diagnostics
    warnings = [d for d in diagnostics if d.code == codes.NOT_APPLIED]
    assert [d.severity for d in diagnostics if d.code != codes.SELECTS_NO_PROXY] == ["warning"]
    assert len(warnings) == 1 and spec.not_applied in warnings[0].message


TRACE = """
type: MeshTrace
name: {name}
mesh: default
spec:
  targetRef: {target}
  default:
    backends:
      - type: Zipkin
        zipkin:
          url: http://jaeger-collector:9411/api/v2/spans
"""


def test_render_notes_the_policies_selecting_each_proxy() -> None:
    """A not-applied kind compiles to nothing and each proxy it selects says so."""
    result = compile_yaml(
        MESH,
        dataplane("web-1", "127.0.0.2", "web"),
        dataplane("api-1", "127.0.0.3", "api"),
        TRACE.format(name="all", target="{kind: Mesh}"),
        TRACE.format(name="api-only", target="{kind: MeshService, name: api}"),
    )
    note = CATALOG["MeshTrace"].not_applied
    web, api = result.configs["default.web-1"], result.configs["default.api-1"]
    assert f"not applied: {note} (selected by all)" in web.notes
    assert f"not applied: {note} (selected by all, api-only)" in api.notes
    assert not any("policies are not compiled yet" in n for n in web.notes + api.notes)


def test_render_has_no_note_for_an_unselected_proxy() -> None:
    result = compile_yaml(
        MESH,
        dataplane("web-1", "127.0.0.2", "web"),
        TRACE.format(name="api-only", target="{kind: MeshService, name: api}"),
    )
    assert not any("MeshTrace" in n for n in result.configs["default.web-1"].notes)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("name: c\nconnectTimeout: 5s\ntype: STATIC\n", None),
        ('{"name": "c", "connect_timeout": "5s"}', None),  # JSON is YAML
        ("{", "invalid YAML"),  # Kuma: "unexpected EOF"
        ("", "expected a mapping"),  # protojson of null
        ("- a list", "expected a mapping"),
        ("just text", "expected a mapping"),
    ],
)
def test_native_envoy_values_must_parse_as_an_object(value: str, problem: str | None) -> None:
    """Kuma ``ValidateResourceYAML``: YAML (else JSON) that protojson reads as an object."""
    error = value_error(value)
    if problem is None:
        assert error is None
    else:
        assert error is not None and problem in error
