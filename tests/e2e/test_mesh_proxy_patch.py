"""MeshProxyPatch with real Envoys: the modifications show in traffic and in the config dump.

A client proxy ``web`` calls ``api`` through its outbound. Two MeshProxyPatch policies:

* on ``api``: an ``httpFilter`` inserted before the router of its inbound (origin ``inbound``)
  adds ``x-patched-by`` to every answer;
* on ``web``: a ``virtualHost`` JSON patch of the route configuration ``outbound:api`` adds
  ``x-via`` to the answers the client receives.

Both headers reach the client, and each Envoy's ``/config_dump`` holds the patched filter or
virtual host. A third case serves a patch whose result Envoy would reject: the compile
refuses it (RC510) and nothing is published.
"""

from __future__ import annotations

import http.client
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from xds_harness import App, PlaneThread, free_port, serve_mesh, wait_for

from reconciler import codes
from reconciler.compile.compiler import compile_resources
from reconciler.load import SourceFile
from reconciler.pipeline import analyze

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

API_PATCH = """
type: MeshProxyPatch
name: api-patched-by
mesh: default
spec:
  targetRef: {kind: MeshService, name: api}
  default:
    appendModifications:
      - httpFilter:
          operation: AddBefore
          match: {name: envoy.filters.http.router, origin: inbound}
          value: |
            name: envoy.filters.http.header_mutation
            typedConfig:
              '@type': type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation
              mutations:
                responseMutations:
                  - append: {header: {key: x-patched-by, value: api-inbound}}
"""

WEB_PATCH = """
type: MeshProxyPatch
name: web-via
mesh: default
spec:
  targetRef: {kind: MeshService, name: web}
  default:
    appendModifications:
      - virtualHost:
          operation: Patch
          match: {routeConfigurationName: "outbound:api"}
          jsonPatches:
            - op: add
              path: /responseHeadersToAdd/-
              value: {header: {key: x-via, value: web-outbound}}
"""


class Mesh:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.api = App("api-app")
        self.outbound = ("127.0.0.2", free_port("127.0.0.2"))
        self.web_inbound = ("127.0.0.2", free_port("127.0.0.2"))
        self.api_inbound = ("127.0.0.3", free_port("127.0.0.3"))
        self.plane = PlaneThread()
        self.items: list[Any] = [self.api, self.plane]
        self.envoys: dict[str, Any] = {}

    def documents(self) -> list[str]:
        out = (
            f"[{{address: {self.outbound[0]}, port: {self.outbound[1]}, "
            "tags: {kuma.io/service: api}}]"
        )
        return [
            "type: Mesh\nname: default\n",
            self._dataplane("web-1", self.web_inbound, "web", free_port(), out),
            self._dataplane("api-1", self.api_inbound, "api", self.api.endpoint[1], "[]"),
        ]

    @staticmethod
    def _dataplane(
        name: str, inbound: tuple[str, int], service: str, app_port: int, outs: str
    ) -> str:
        return f"""
type: Dataplane
mesh: default
name: {name}
networking:
  address: {inbound[0]}
  inbound:
    - port: {inbound[1]}
      servicePort: {app_port}
      tags: {{kuma.io/service: {service}, kuma.io/protocol: http}}
  outbound: {outs}
"""

    def serve(self, *policies: str) -> None:
        envoys = serve_mesh(self.plane, self.tmp_path, [*self.documents(), *policies])
        self.items.extend(envoys)
        self.envoys = {e.node_id: e for e in envoys}

    def stop(self) -> None:
        for item in reversed(self.items):
            item.stop()


@pytest.fixture
def mesh(tmp_path: Path) -> Iterator[Mesh]:
    built = Mesh(tmp_path)
    try:
        yield built
    finally:
        built.stop()


def answer(endpoint: tuple[str, int]) -> tuple[int, str, dict[str, str]]:
    conn = http.client.HTTPConnection(*endpoint, timeout=2)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        return response.status, response.read().decode(), dict(response.getheaders())
    finally:
        conn.close()


def config_dump(admin: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://{admin}/config_dump", timeout=5) as response:
        dump: dict[str, Any] = json.loads(response.read())
    return dump


def dumped(mesh: Mesh, node: str, section: str) -> dict[str, Any]:
    """One section of a proxy's ``/config_dump`` (``ListenersConfigDump``, ...)."""
    configs = config_dump(mesh.envoys[node].admin)["configs"]
    found: dict[str, Any] = next(c for c in configs if c["@type"].endswith(f".{section}"))
    return found


def _reached(endpoint: tuple[str, int]) -> tuple[int, str, dict[str, str]] | None:
    try:
        status, body, headers = answer(endpoint)
    except OSError:
        return None
    return (status, body, headers) if status == 200 else None


def test_patched_headers_reach_the_client_and_show_in_the_config_dumps(mesh: Mesh) -> None:
    mesh.serve(API_PATCH, WEB_PATCH)
    status, body, headers = wait_for(lambda: _reached(mesh.outbound), 30, "web -> api")
    assert (status, body) == (200, "api-app")
    lowered = {k.lower(): v for k, v in headers.items()}
    assert lowered.get("x-patched-by") == "api-inbound"  # api's inbound filter
    assert lowered.get("x-via") == "web-outbound"  # web's outbound virtual host

    api_listeners = json.dumps(dumped(mesh, "default.api-1", "ListenersConfigDump"))
    assert '"envoy.filters.http.header_mutation"' in api_listeners
    assert '"x-patched-by"' in api_listeners and "api-inbound" in api_listeners
    web_routes = json.dumps(dumped(mesh, "default.web-1", "RoutesConfigDump"))
    assert '"x-via"' in web_routes and "web-outbound" in web_routes
    web_listeners = json.dumps(dumped(mesh, "default.web-1", "ListenersConfigDump"))
    assert "x-patched-by" not in web_listeners  # only the selected proxy is patched


def test_without_the_patches_the_answers_carry_no_such_headers(mesh: Mesh) -> None:
    mesh.serve()
    _, _, headers = wait_for(lambda: _reached(mesh.outbound), 30, "web -> api")
    lowered = {k.lower() for k in headers}
    assert "x-patched-by" not in lowered and "x-via" not in lowered


def test_a_patch_envoy_would_reject_is_refused_before_publishing(mesh: Mesh) -> None:
    """A duplicate listener address (Envoy: "error adding listener") is an RC510 error at the
    modification's line; the proxy gets no configuration from this revision."""
    bad = f"""
type: MeshProxyPatch
name: twin-listener
mesh: default
spec:
  targetRef: {{kind: MeshService, name: web}}
  default:
    appendModifications:
      - listener:
          operation: Add
          value: |
            name: twin
            address: {{socketAddress: {{address: {mesh.outbound[0]}, portValue: {mesh.outbound[1]}}}}}
"""
    text = "\n---\n".join([*mesh.documents(), bad])
    analysis = analyze([SourceFile("mesh.yaml", text.encode())])
    assert analysis.ok
    result = compile_resources(list(analysis.resources))
    errors = [d for d in result.diagnostics if d.code == codes.PROXY_PATCH_INVALID]
    assert [e.field for e in errors] == ["spec.default.appendModifications[0].listener"]
    assert "twin-listener" in errors[0].format_text() and "mesh.yaml:" in errors[0].format_text()
    assert "default.web-1" not in result.configs
