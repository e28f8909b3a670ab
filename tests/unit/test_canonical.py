"""The canonical form of the protobuf kinds (``validate/canonical_form.py``): what Kuma's jsonpb
reads (protobuf names, numbers in quotes, enum numbers) compiles like the JSON-named form,
and diagnostics point at the file as written."""

from __future__ import annotations

from pathlib import Path

from reconciler.diagnostics import only_errors
from reconciler.load import SourceFile, load_file
from reconciler.model import Resource
from reconciler.pipeline import analyze_paths, compile_analysis
from reconciler.validate import canonical

MESH = """\
type: Mesh
name: default
mtls:
  enabledBackend: ca-1
  backends:
    - name: ca-1
      type: builtin
      mode: {mode}
---
type: MeshTimeout
name: timeouts
mesh: default
spec:
  targetRef:
    kind: Mesh
  to:
    - targetRef:
        kind: Mesh
      default:
        connectionTimeout: 3s
"""

BACKEND = """\
type: Dataplane
mesh: default
name: backend-1
networking:
  address: 127.0.0.2
  inbound:
    - port: 9090
      tags:
        kuma.io/service: backend
        kuma.io/protocol: http
"""

CANONICAL = """\
type: Dataplane
mesh: default
name: web-1
networking:
  address: 127.0.0.1
  admin:
    port: 9901
  inbound:
    - port: 8080
      servicePort: 18080
      state: Ready
      serviceProbe:
        interval: 2s
        unhealthyThreshold: 3
        healthyThreshold: 2
        tcp: {}
      tags:
        kuma.io/service: web
        kuma.io/protocol: http
  outbound:
    - port: 10001
      tags:
        kuma.io/service: backend
  transparentProxying:
    redirectPortInbound: 15006
    redirectPortOutbound: 15001
"""

PROTOBUF_FORMS = """\
type: Dataplane
mesh: default
name: web-1
networking:
  address: 127.0.0.1
  admin:
    port: "9901"
  inbound:
    - port: "8080"
      servicePort: "18080"
      state: 0
      serviceProbe:
        interval: 2s
        unhealthy_threshold: "3"
        healthy_threshold: 2
        tcp: {}
      tags:
        kuma.io/service: web
        kuma.io/protocol: http
  outbound:
    - port: "10001"
      tags:
        kuma.io/service: backend
  transparent_proxying:
    redirect_port_inbound: "15006"
    redirect_port_outbound: 15001
"""


def _compiled(root: Path, mesh_mode: str, web: str) -> dict[str, dict[str, list[bytes]]]:
    root.mkdir()
    (root / "mesh.yaml").write_text(MESH.format(mode=mesh_mode))
    (root / "backend.yaml").write_text(BACKEND)
    (root / "web.yaml").write_text(web)
    analysis = analyze_paths([root], cache_dir=None)
    assert list(only_errors(analysis.diagnostics)) == []
    result = compile_analysis(analysis)
    assert result.diagnostics == []
    return {
        node: {
            str(type_url): [m.SerializeToString(deterministic=True) for m in messages]
            for type_url, messages in sorted(config.resources.items())
        }
        for node, config in sorted(result.configs.items())
    }


def test_protobuf_names_and_quoted_numbers_compile_like_the_canonical_form(
    tmp_path: Path,
) -> None:
    canonical_out = _compiled(tmp_path / "canonical", "PERMISSIVE", CANONICAL)
    protobuf_out = _compiled(tmp_path / "protobuf", "1", PROTOBUF_FORMS)
    assert sorted(canonical_out) == ["default.backend-1", "default.web-1"]
    assert all(canonical_out[node] for node in canonical_out)
    assert protobuf_out == canonical_out
    # not an empty comparison: the forms that differ reach the output (inbound 8080)
    web = analyze_paths([tmp_path / "protobuf" / "web.yaml"], cache_dir=None)
    assert web.resources[0].data["networking"]["inbound"][0]["port"] == 8080


def _resource(text: str) -> tuple[Resource, Resource]:
    loaded = load_file(SourceFile("dp.yaml", text.encode()))
    original = loaded.resources[0]
    return original, canonical(original)


def test_canonical_form_of_jsonpb_forms() -> None:
    original, converted = _resource(PROTOBUF_FORMS)
    assert converted is not original
    expected, same = _resource(CANONICAL)
    assert same is expected  # nothing to convert: the very same resource
    data = dict(converted.data)
    want = dict(expected.data)
    want["networking"]["inbound"][0]["state"] = "Ready"
    assert data == want
    assert list(data["networking"]) == list(want["networking"])  # the written order


def test_json_name_wins_over_protobuf_name() -> None:
    _, converted = _resource(
        "type: Dataplane\nname: d\nnetworking:\n  transparent_proxying:\n"
        "    redirect_port_inbound: bad\n    redirectPortInbound: 1\n"
    )
    networking = converted.data["networking"]
    assert networking == {"transparentProxying": {"redirectPortInbound": 1}}


def test_unknown_enum_number_and_non_numeric_strings_stay_as_written() -> None:
    _, converted = _resource(
        "type: MeshGateway\nname: g\nmesh: default\nconf:\n  listeners:\n"
        '    - port: "80a"\n      protocol: 2\n    - port: "80"\n      protocol: 3\n'
    )
    listeners = converted.data["conf"]["listeners"]
    assert listeners == [{"port": "80a", "protocol": 2}, {"port": 80, "protocol": "TLS"}]


def test_positions_point_at_the_protobuf_name_as_written() -> None:
    _, converted = _resource(PROTOBUF_FORMS)
    path = ("networking", "transparentProxying", "redirectPortInbound")
    position = converted.locate(path)
    assert (position.line, position.col) == (25, 5)
