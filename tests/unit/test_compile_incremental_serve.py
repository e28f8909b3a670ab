"""The compiler as the serve loop drives it equals a fresh full compile after every change.

The serve loop's analyzer (:class:`~reconciler.serve.analysis_cache.RevisionAnalyzer`) hands
back the previous revision's ``Resource`` objects for every file that did not change, so the
kept :class:`Compiler` sees most resources by identity and, when only policies were edited
in place, patches its mesh index instead of building it again. Each step below edits the
generated mesh on disk (policies added, edited, renamed, removed; Dataplanes added, moved,
removed; the Mesh; MeshServices), then the result of the kept compiler must equal a full
compile of the same revision: Envoy resources byte for byte, diagnostics, hostnames.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.compile.compiler import Compiler, CompileResult
from reconciler.pipeline import Analysis, compile_analysis, read_directory
from reconciler.resource_types import TypeUrl
from reconciler.serve.analysis_cache import RevisionAnalyzer

ROOT = Path(__file__).resolve().parents[2]

MESH_SERVICE = """\
type: MeshService
name: api
mesh: default
spec:
  selector:
    dataplaneTags:
      kuma.io/service: svc-001
  ports:
    - port: 8080
      targetPort: main
      appProtocol: {protocol}
"""

ROUTE_TIMEOUT = """\
type: MeshTimeout
name: route-timeout
mesh: default
spec:
  targetRef:
    kind: MeshHTTPRoute
    name: {route}
  to:
    - targetRef:
        kind: Mesh
      default:
        http:
          requestTimeout: 3s
"""

NEW_POLICY = """\
type: MeshTimeout
name: added-timeout
mesh: default
spec:
  targetRef:
    kind: MeshService
    name: svc-002
  to:
    - targetRef:
        kind: MeshService
        name: svc-003
      default:
        connectionTimeout: 7s
"""


def _generate(root: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "generate_mesh", ROOT / "bench" / "generate_mesh.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.generate(root, dataplanes=40, services=10, policies=44)


def _observable(result: CompileResult) -> dict[str, Any]:
    return {
        "configs": {
            node: [
                (t.value, m.SerializeToString(deterministic=True))
                for t in TypeUrl
                for m in config.of(t)
            ]
            for node, config in result.configs.items()
        },
        "order": list(result.configs),
        "traces": sorted(result.traces),
        "diagnostics": [d.to_json() for d in result.diagnostics],
        "hostnames": result.hostnames,
    }


def _edit(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    doc = yaml.safe_load(path.read_text())
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def _first(root: Path, folder: str, n: int = 0) -> Path:
    return sorted((root / folder).rglob("*.yaml"))[n]


def _copy_dataplane(root: Path) -> None:
    doc = yaml.safe_load(_first(root, "dataplanes/svc-004").read_text())
    doc["name"] = "svc-004-extra"
    net = doc["networking"]
    net["address"] = "127.1.9.9"
    net["admin"]["port"] = 49999
    net["inbound"][0].update(port=29999, servicePort=39999)
    for outbound in net["outbound"]:
        outbound["address"] = "127.1.9.9"
    (root / "dataplanes" / "svc-004" / "svc-004-extra.yaml").write_text(yaml.safe_dump(doc))


def _steps(root: Path) -> list[tuple[str, bool, Callable[[], None]]]:
    """(label, only policies edited in place, the edit)."""
    timeouts = root / "policies" / "meshtimeout"
    retries = root / "policies" / "meshretry"
    breakers = root / "policies" / "meshcircuitbreaker"

    values = iter(range(40, 60))

    def bump_timeout(doc: dict[str, Any]) -> None:
        doc["spec"]["to"][0]["default"]["connectionTimeout"] = f"{next(values)}s"

    def retarget(doc: dict[str, Any]) -> None:
        doc["spec"]["targetRef"] = {"kind": "MeshService", "name": "svc-005"}

    def move(doc: dict[str, Any]) -> None:
        doc["networking"]["address"] = "127.1.8.8"
        for outbound in doc["networking"]["outbound"]:
            outbound["address"] = "127.1.8.8"

    def permissive(doc: dict[str, Any]) -> None:
        doc["mtls"]["backends"][0]["mode"] = "PERMISSIVE"

    client = _first(root, "dataplanes/svc-000")

    def call_api(doc: dict[str, Any]) -> None:
        doc["networking"]["outbound"].append(
            {
                "port": 18080,
                "address": doc["networking"]["address"],
                "backendRef": {"kind": "MeshService", "name": "api", "port": 8080},
            }
        )

    def forget_api(doc: dict[str, Any]) -> None:
        doc["networking"]["outbound"].pop()

    def add_api() -> None:
        (root / "api.yaml").write_text(MESH_SERVICE.format(protocol="http"))
        _edit(client, call_api)

    def edit_two() -> None:
        _edit(_first(timeouts, ""), bump_timeout)
        _edit(_first(retries, "", 2), retarget)

    def write(path: Path, text: str) -> None:
        path.write_text(text)

    def remove_api() -> None:
        (root / "api.yaml").unlink()
        _edit(client, forget_api)

    routes = root / "policies" / "meshhttproute"
    route = _first(routes, "")
    on_route = ROUTE_TIMEOUT.format(route=yaml.safe_load(route.read_text())["name"])

    def mesh_wide(doc: dict[str, Any]) -> None:
        doc["spec"]["targetRef"] = {"kind": "Mesh"}

    def new_path(doc: dict[str, Any]) -> None:
        doc["spec"]["to"][0]["rules"][0]["matches"][0]["path"]["value"] = "/api/v9"

    def reformat(path: Path) -> None:
        write(path, "# same data, new bytes\n" + path.read_text())

    return [
        ("edit a policy value", True, lambda: _edit(_first(timeouts, ""), bump_timeout)),
        ("edit two policies of two kinds", True, edit_two),
        ("rewrite a policy file, same data", True, lambda: reformat(_first(retries, "", 1))),
        ("retarget a policy", True, lambda: _edit(_first(breakers, ""), retarget)),
        ("add a policy", False, lambda: write(timeouts / "added.yaml", NEW_POLICY)),
        (
            "rename a policy",
            False,
            lambda: _edit(timeouts / "added.yaml", lambda d: d.update(name="renamed-timeout")),
        ),
        ("edit the added policy", True, lambda: _edit(timeouts / "added.yaml", bump_timeout)),
        ("remove a policy", False, lambda: (timeouts / "added.yaml").unlink()),
        ("a route for the whole mesh", True, lambda: _edit(route, mesh_wide)),
        ("add a policy on the route", False, lambda: write(timeouts / "on-route.yaml", on_route)),
        ("edit the route", True, lambda: _edit(route, new_path)),
        ("move a Dataplane", False, lambda: _edit(_first(root, "dataplanes", 3), move)),
        ("add a Dataplane", False, lambda: _copy_dataplane(root)),
        ("remove a Dataplane", False, lambda: _first(root, "dataplanes", 7).unlink()),
        ("add a MeshService and an outbound to it", False, add_api),
        (
            "change a MeshService",
            False,
            lambda: write(root / "api.yaml", MESH_SERVICE.format(protocol="tcp")),
        ),
        ("change the Mesh", False, lambda: _edit(root / "mesh.yaml", permissive)),
        ("edit a policy after the Mesh", True, lambda: _edit(_first(retries, "", 3), retarget)),
        ("remove the MeshService and its outbound", False, remove_api),
    ]


SAME_OUTPUT = {"rewrite a policy file, same data", "rename a policy"}
"""Steps whose revision gives the proxies the same configuration (names are not in it)."""


@pytest.fixture()
def mesh(tmp_path: Path) -> Path:
    _generate(tmp_path)
    return tmp_path


def _analyze(analyzer: RevisionAnalyzer, root: Path) -> Analysis:
    side = read_directory(str(root))
    analysis = analyzer(side.files, side.read_diagnostics)
    errors = [d.format_text() for d in analysis.diagnostics if d.severity == "error"]
    assert not errors
    return analysis


def test_kept_compiler_equals_full_compile_after_every_change(mesh: Path) -> None:
    analyzer = RevisionAnalyzer(None)
    compiler = Compiler()
    compile_analysis(_analyze(analyzer, mesh), compiler)
    previous: dict[str, Any] | None = None
    for label, in_place, step in _steps(mesh):
        step()
        analysis = _analyze(analyzer, mesh)
        proxies = compiler._meshes["default"].proxies
        kept = compile_analysis(analysis, compiler)
        # only policies edited in place: the index is patched, its proxies kept as they are
        assert (compiler._meshes["default"].proxies is proxies) == in_place, label
        full = compile_analysis(analysis, Compiler())
        assert _observable(kept) == _observable(full), label
        # every step but two changes what the proxies get (else the comparison proves little)
        assert (_observable(full) != previous) == (label not in SAME_OUTPUT), label
        if in_place:  # the patched index reaches only some proxies
            assert 0 < len(kept.compiled) < len(full.configs) or label in SAME_OUTPUT, label
        previous = _observable(full)
