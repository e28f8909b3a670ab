"""Unit tests of the rule building blocks: durations, targetRefs, cross-resource indexes."""

from __future__ import annotations

import pytest
import yaml

from reconciler import codes
from reconciler.codes import CODES
from reconciler.diagnostics import Diagnostic
from reconciler.durations import parse_duration
from reconciler.load import SourceFile, load_file
from reconciler.model import Kind, Resource
from reconciler.validate import check_mesh, check_resource
from reconciler.validate.rules.findings import Findings
from reconciler.validate.rules.targetrefs import check_target_ref, includes_gateways


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0.0),
        ("0s", 0.0),
        ("1s", 1.0),
        ("500ms", 0.5),
        ("1.5s", 1.5),
        ("1h30m", 5400.0),
        ("300us", 0.0003),
        ("300µs", 0.0003),
        ("10ns", 1e-8),
        ("-1s", -1.0),
        ("+2m", 120.0),
        (".5s", 0.5),
        ("1h1m1s1ms", 3661.001),
    ],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "1", "s", "1d", "1 s", "10 seconds", "1.s.", "--1s", "1sm"])
def test_invalid_go_durations(text: str) -> None:
    assert parse_duration(text) is None


def test_durations_reject_non_strings_and_overflow() -> None:
    assert parse_duration(5) is None
    assert parse_duration(None) is None
    assert parse_duration("9999999999h") is None


def _resources(text: str, path: str = "repo.yaml") -> list[Resource]:
    loaded = load_file(SourceFile(path, text.encode()))
    assert loaded.diagnostics == []
    return loaded.resources


def _one(text: str) -> Resource:
    [resource] = _resources(text)
    return resource


def _findings(ref: object, allowed: tuple[str, ...], **kwargs: bool) -> list[tuple[str, str]]:
    resource = _one("type: MeshTimeout\nname: t\nspec: {}\n")
    f = Findings(resource)
    check_target_ref(f, ("targetRef",), ref, allowed, **kwargs)
    return [(d.field or "", d.message) for d in f.diagnostics]


def test_target_ref_kind_must_be_defined_and_allowed() -> None:
    assert _findings({}, ("Mesh",)) == [("spec.targetRef.kind", "must be defined")]
    [(field, message)] = _findings({"kind": "MeshService", "name": "a"}, ("Mesh",))
    assert field == "spec.targetRef.kind"
    assert "'MeshService' is not supported" in message


def test_target_ref_fields_per_kind() -> None:
    assert _findings({"kind": "Mesh", "tags": {"a": "b"}}, ("Mesh",)) == [
        ("spec.targetRef.tags", "must not be set with kind Mesh")
    ]
    assert _findings({"kind": "MeshService"}, ("MeshService",)) == [
        ("spec.targetRef", "name or labels must be set when kind is MeshService")
    ]
    # Kuma 2.14 ValidateTargetRef: sectionName is a MeshService (port) or Dataplane field
    assert _findings(
        {"kind": "MeshHTTPRoute", "name": "r", "sectionName": "s"}, ("MeshHTTPRoute",)
    ) == [("spec.targetRef.sectionName", "must not be set with kind MeshHTTPRoute")]
    assert (
        _findings(
            {"kind": "MeshService", "labels": {"a": "b"}, "sectionName": "s"}, ("MeshService",)
        )
        == []
    )
    # MeshMultiZoneService has no field rules in Kuma
    assert (
        _findings({"kind": "MeshMultiZoneService", "tags": {"a": "b"}}, ("MeshMultiZoneService",))
        == []
    )
    assert _findings({"kind": "Dataplane", "sectionName": "http"}, ("Dataplane",)) != []
    assert (
        _findings({"kind": "Dataplane", "sectionName": "http"}, ("Dataplane",), inbound_policy=True)
        == []
    )
    assert _findings({"kind": "MeshSubset", "tags": {"v": "a b"}}, ("MeshSubset",)) == [
        (
            'spec.targetRef.tags["v"]',
            "tag value must consist of alphanumeric characters, dots, dashes and underscores",
        )
    ]


def test_target_ref_of_wrong_type_is_left_to_the_schema() -> None:
    assert _findings("Mesh", ("Mesh",)) == []
    assert _findings({"kind": 3}, ("Mesh",)) == []


def test_includes_gateways() -> None:
    assert includes_gateways(None)
    assert includes_gateways({"kind": "Mesh"})
    assert not includes_gateways({"kind": "Mesh", "proxyTypes": ["Sidecar"]})
    assert includes_gateways({"kind": "MeshSubset", "proxyTypes": ["Gateway"]})
    assert includes_gateways({"kind": "MeshGateway", "name": "edge"})
    assert not includes_gateways({"kind": "MeshService", "name": "a"})
    assert not includes_gateways({"kind": "Dataplane"})


def test_every_rule_code_is_documented() -> None:
    for name in dir(codes):
        value = getattr(codes, name)
        if isinstance(value, str) and value.startswith(("RC3", "RC4")) and len(value) == 5:
            assert value in CODES, name


MESH = "type: Mesh\nname: default\n"
DP = """\
type: Dataplane
name: {name}
mesh: default
networking:
  address: 10.0.0.{n}
  inbound:
    - port: 8080
      tags:
        kuma.io/service: {service}
"""


def test_duplicate_names_both_places() -> None:
    first = _resources(MESH, "a.yaml")
    second = _resources("type: Mesh\nname: default\n", "dir/b.yaml")
    diags = check_mesh([*first, *second])
    [dup] = [d for d in diags if d.code == codes.DUPLICATE_RESOURCE]
    assert dup.file == "dir/b.yaml"
    assert "already defined at a.yaml:1:1" in dup.message


def test_omitted_mesh_is_the_implicit_default_mesh() -> None:
    """Kuma's control plane creates the mesh `default` itself: a warning, not RC402."""
    resources = _resources("type: MeshTimeout\nname: t\nspec:\n  to: []\n")
    diags = check_mesh(resources)
    assert not [d for d in diags if d.code == codes.UNKNOWN_MESH]
    [diag] = [d for d in diags if d.code == codes.IMPLICIT_DEFAULT_MESH]
    assert diag.severity == "warning" and diag.field is None


def test_unknown_mesh_other_than_default() -> None:
    resources = _resources("type: MeshTimeout\nname: t\nmesh: prod\nspec:\n  to: []\n")
    [diag] = [d for d in check_mesh(resources) if d.code == codes.UNKNOWN_MESH]
    assert "mesh 'prod' is not defined" in diag.message
    assert diag.field == "mesh"


def _cross(text: str) -> list[Diagnostic]:
    return check_mesh(_resources(text))


def test_selection_and_services_use_the_dataplanes_of_the_same_mesh() -> None:
    policy = """\
type: MeshTimeout
name: t
mesh: default
spec:
  targetRef:
    kind: MeshService
    name: web
  to:
    - targetRef:
        kind: MeshService
        name: api
      default:
        connectionTimeout: 1s
"""
    dataplanes = [
        DP.format(name="web-1", n=1, service="web"),
        DP.format(name="api-1", n=2, service="api"),
    ]
    repo = "---\n".join([MESH, *dataplanes, policy])
    assert _cross(repo) == []
    other_mesh = repo.replace("mesh: default\nnetworking", "mesh: other\nnetworking")
    assert other_mesh.count("mesh: other") == 2
    found = {d.code for d in _cross(other_mesh)}
    assert {codes.SELECTS_NO_PROXY, codes.UNKNOWN_SERVICE, codes.UNKNOWN_MESH} <= found


def test_port_collision_includes_default_outbound_address() -> None:
    dp = DP.format(name="web-1", n=1, service="web") + (
        "  outbound:\n"
        "    - port: 9000\n      tags:\n        kuma.io/service: web\n"
        "    - port: 9000\n      address: 127.0.0.1\n      tags:\n        kuma.io/service: web\n"
    )
    diags = [d for d in _cross("---\n".join([MESH, dp])) if d.code == codes.PORT_COLLISION]
    [diag] = diags
    assert diag.field == "networking.outbound[1].port"
    assert "127.0.0.1:9000" in diag.message


def test_rules_never_raise_on_wrong_shapes() -> None:
    shapes: list[object] = [None, 1, "x", [], {}, [1, "a", None], {"kind": []}, True]
    for kind in Kind:
        for shape in shapes:
            for field in ("spec", "networking", "mtls", "targetRef", "to", "from", "rules"):
                text_doc = {"type": kind.value, "name": "n", field: shape}
                [resource] = _resources(yaml.safe_dump(text_doc))
                check_resource(resource)
                check_mesh([resource])
