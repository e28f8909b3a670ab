"""The resource kinds that are not policies (MeshService ... ZoneIngress): what Kuma 2.14.3's
validators decide beyond the cases, and how the stages treat global and mesh resources.
"""

from __future__ import annotations

import copy
import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
import yaml

from reconciler import codes
from reconciler.cli.main import main
from reconciler.compile.inventory import index_meshes
from reconciler.kinds.mesh_trust.validator import is_pem_certificate
from reconciler.load import SourceFile
from reconciler.pipeline import Analysis, analyze
from reconciler.validate.rules.gotemplate import parse_error
from reconciler.validate.rules.values import is_dns_name, is_go_ip

ZONE_INGRESS = """
type: ZoneIngress
name: zoneingress-1
networking:
  address: 192.168.0.1
  port: 10001
"""
HOSTNAME_GENERATOR = """
type: HostnameGenerator
name: all
spec:
  selector:
    meshService: {}
  template: "{{ .DisplayName }}.mesh"
"""
MESH_SERVICE = """
type: MeshService
name: redis
mesh: payments
spec:
  ports:
    - port: 6379
"""


def analyzed(*files: tuple[str, str]) -> Analysis:
    return analyze([SourceFile(name, text.encode()) for name, text in files])


def codes_of(analysis: Analysis) -> list[str]:
    return [d.code for d in analysis.diagnostics]


@pytest.mark.parametrize(
    ("template", "error"),
    [
        ("{{ .DisplayName }}.svc.mesh.local", None),
        ('{{ label "k8s.kuma.io/namespace" }}.{{ .Zone }}', None),
        ("{{ if .Zone }}{{ .Zone }}{{ else }}local{{ end }}.mesh", None),
        ("{{ range $i, $e := .List }}{{ $e }}{{ end }}", None),
        ("{{- .Name -}}{{/* a comment */}}", None),
        # Kuma's validator test: Go's lexer stops at the '['
        ("{{ .Name[4 }}.mesh", "template: :1: bad character U+005B '['"),
        ("{{ lower .Name }}", 'template: :1: function "lower" not defined'),
        ("{{ .Name", "template: :1: unclosed action"),
        ("{{ if .Zone }}x", "template: :1: unexpected EOF"),
        ("{{ end }}", "template: :1: unexpected {{end}}"),
        ("{{ $x }}", 'template: :1: undefined variable "$x"'),
        ("{{}}", "template: :1: missing value for command"),
        ("{{ break }}", "template: :1: {{break}} outside {{range}}"),
        ("{{ (.A }}", "template: :1: unclosed left paren"),
        ("{{ .A | 3 }}", "template: :1: non executable command in pipeline stage 2"),
        ("a\n{{ .B[ }}", "template: :2: bad character U+005B '['"),
        ('{{ "a\\q" }}', "template: :1: invalid syntax"),
    ],
)
def test_go_template_parse_errors_are_gos(template: str, error: str | None) -> None:
    assert parse_error(template) == error


def test_govalidator_dns_name_and_ip() -> None:
    assert is_dns_name("example.com") and is_dns_name("otel_collector") and is_dns_name("a.")
    assert not is_dns_name("not[]valid") and not is_dns_name("") and not is_dns_name("-a b")
    assert not is_dns_name("1.1.1.1")  # an IP is not a DNS name for govalidator
    assert is_go_ip("1.1.1.1") and is_go_ip("::1") and is_go_ip("::ffff:10.0.0.1")
    assert not is_go_ip("fe80::1%eth0")  # Go's net.ParseIP takes no zone
    assert not is_go_ip("unix:///tmp/example.sock")


def test_pem_decode_skips_private_keys() -> None:
    cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    key = "-----BEGIN EC PRIVATE KEY-----\nMIIB\n-----END EC PRIVATE KEY-----\n"
    assert is_pem_certificate(cert) and is_pem_certificate("junk before\n" + cert)
    assert not is_pem_certificate(key) and not is_pem_certificate("MIIB")
    assert not is_pem_certificate("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----")


def test_global_kinds_have_no_mesh_and_need_no_mesh_resource() -> None:
    analysis = analyzed(("zi.yaml", ZONE_INGRESS), ("hg.yaml", HOSTNAME_GENERATOR))
    assert [r.mesh for r in analysis.resources] == [None, None]
    # no Mesh is defined, yet neither RC402 (unknown mesh) nor RC407 (implicit default)
    assert codes_of(analysis) == [codes.HOSTNAMES_NOT_SERVED, codes.NOT_APPLIED]


def test_global_kinds_are_unique_by_name_across_files() -> None:
    analysis = analyzed(("a.yaml", ZONE_INGRESS), ("b.yaml", ZONE_INGRESS))
    duplicates = [d for d in analysis.diagnostics if d.code == codes.DUPLICATE_RESOURCE]
    assert [d.file for d in duplicates] == ["b.yaml"]
    assert "duplicate ZoneIngress zoneingress-1: already defined at a.yaml:2:1" in (
        duplicates[0].message
    )


def test_mesh_resources_need_their_mesh() -> None:
    analysis = analyzed(("ms.yaml", MESH_SERVICE))
    assert codes.UNKNOWN_MESH in codes_of(analysis)
    defined = analyzed(("m.yaml", "type: Mesh\nname: payments\n"), ("ms.yaml", MESH_SERVICE))
    assert codes_of(defined) == []


def test_compiler_indexes_mesh_resources_by_kind_and_skips_global_ones() -> None:
    analysis = analyzed(
        ("m.yaml", "type: Mesh\nname: payments\n"),
        ("ms.yaml", MESH_SERVICE),
        ("zi.yaml", ZONE_INGRESS),
    )
    meshes = index_meshes(analysis.resources)
    assert set(meshes) == {"payments"}
    assert [r.name for r in meshes["payments"].resources["MeshService"]] == ["redis"]
    assert "ZoneIngress" not in meshes["payments"].resources
    assert meshes["payments"].policies == {}


def test_render_warns_once_per_resource_not_applied(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "mesh.yaml").write_text("type: Mesh\nname: default\n")
    (repo / "zi.yaml").write_text(ZONE_INGRESS)
    (repo / "hg.yaml").write_text(HOSTNAME_GENERATOR)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["render", str(repo)])
    assert code == 0
    warnings = [line for line in err.getvalue().splitlines() if "warning[RC320]" in line]
    assert len(warnings) == 1  # HostnameGenerator is applied (its hostnames are reported)
    assert any("ZoneIngress zoneingress-1" in w and "zone proxies" in w for w in warnings)


@pytest.mark.parametrize(
    ("protocol", "errors"),
    [("HTTP", []), (3, []), ("NONE", ["cannot be empty"]), (None, ["cannot be empty"])],
)
def test_gateway_protocol_names_and_numbers(protocol: object, errors: list[str]) -> None:
    listener = "    - port: 8080\n" + (f"      protocol: {protocol}\n" if protocol else "")
    text = (
        "type: MeshGateway\nmesh: default\nname: g\nselectors:\n  - match:\n"
        "      kuma.io/service: g\nconf:\n  listeners:\n" + listener
    )
    analysis = analyzed(("m.yaml", "type: Mesh\nname: default\n"), ("g.yaml", text))
    found = [d.message for d in analysis.diagnostics if d.severity == "error"]
    assert found == errors


RESOURCE_PACKAGES = (
    "mesh_service", "mesh_external_service", "mesh_multi_zone_service", "hostname_generator",
    "mesh_open_telemetry_backend", "mesh_gateway", "mesh_identity", "mesh_trust", "workload",
    "zone_ingress", "zone_egress",
)  # fmt: skip
ODD_VALUES: tuple[object, ...] = ({}, [None], "x", -1, None)


def _paths(node: object, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found = [path] if path else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*path, i))
    return found


@pytest.mark.parametrize("package", RESOURCE_PACKAGES)
def test_rules_survive_values_of_any_type(package: str) -> None:
    """Rules run on resources with schema errors: a value of any type is skipped, never raised on."""
    root = Path(__file__).resolve().parents[2] / "reconciler" / "kinds" / package / "cases"
    docs = [
        doc
        for case in sorted(root.glob("positive/*.yaml"))
        for doc in yaml.safe_load_all(case.read_text())
        if isinstance(doc, dict)
    ]
    # a diagnostic every resource of the kind gets, last: the rules ran to the end
    marker = {
        "mesh_external_service": codes.EXTERNAL_WITHOUT_EGRESS,
        "hostname_generator": codes.HOSTNAMES_NOT_SERVED,
        "mesh_service": None,  # applied, nothing to say: the rules must just not raise
    }.get(package, codes.NOT_APPLIED)
    runs = 0
    for doc in docs:
        for path in _paths(doc):
            if path[0] in ("type", "name"):
                continue
            for value in ODD_VALUES:
                odd = copy.deepcopy(doc)
                target = odd
                for key in path[:-1]:
                    target = target[key]
                target[path[-1]] = value
                analysis = analyzed(("odd.yaml", yaml.safe_dump(odd)))
                runs += 1
                assert marker is None or marker in codes_of(analysis)
    assert runs >= 4 * len(ODD_VALUES)
