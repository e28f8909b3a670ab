"""MeshMetric with real Envoys: a scrape of the proxy's metrics port returns Envoy's metrics.

``client`` calls ``web`` through its outbound; a mesh-wide MeshMetric gives both proxies a
Prometheus endpoint on their Dataplane address, served by Envoy itself (a listener routing
the path to its admin ``/stats/prometheus``). A new revision moves the port and the path,
turns ``includeUnused`` on, then selects profile ``None``: each scrape follows. In the mTLS mesh of ``test_mtls.py``,
``ActiveMTLSBackend`` serves the scrape to a client with a mesh certificate and, in
plaintext, only to its own address.
"""

from __future__ import annotations

import http.client
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_mtls import MeshStack
from xds_harness import (
    App,
    Envoy,
    PlaneThread,
    compile_mesh,
    free_port,
    get,
    serve_mesh,
    wait_for,
)

from reconciler.resource_types import TypeUrl

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(150)]
WEB, CLIENT = "127.0.18.1", "127.0.18.2"
SENT = 3
UPSTREAM_RQ = 'envoy_cluster_upstream_rq_total{envoy_cluster_name="web"}'
UNUSED = 'envoy_cluster_upstream_rq_timeout{envoy_cluster_name="web"}'


def scrape(address: str, port: int, path: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection(address, port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def samples(body: str) -> dict[str, float]:
    """Prometheus text format: ``name{labels} value`` per line, comments skipped."""
    out = {}
    for line in body.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


def refused(address: str, port: int) -> bool:
    try:
        scrape(address, port, "/")
    except OSError:
        return True
    return False


class Mesh:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.items: list[Any] = []
        self.web = App("web")
        self.items.append(self.web)
        self.outbound = free_port(CLIENT)
        self.admin = {"default.web-1": free_port(), "default.client-1": free_port()}
        self.plane = PlaneThread()
        self.items.append(self.plane)

    def documents(self, metric: str) -> list[str]:
        return [
            "type: Mesh\nname: default\nskipCreatingInitialPolicies: ['*']\n",
            f"""
type: Dataplane
mesh: default
name: web-1
networking:
  address: {WEB}
  admin: {{port: {self.admin["default.web-1"]}}}
  inbound:
    - port: {free_port(WEB)}
      servicePort: {self.web.endpoint[1]}
      tags: {{kuma.io/service: web, kuma.io/protocol: http}}
""",
            f"""
type: Dataplane
mesh: default
name: client-1
networking:
  address: {CLIENT}
  admin: {{port: {self.admin["default.client-1"]}}}
  inbound:
    - port: {free_port(CLIENT)}
      tags: {{kuma.io/service: client, kuma.io/protocol: http}}
  outbound:
    - address: {CLIENT}
      port: {self.outbound}
      tags: {{kuma.io/service: web}}
""",
            metric,
        ]

    def serve(self, metric: str) -> None:
        self.items.extend(serve_mesh(self.plane, self.tmp_path, self.documents(metric), self.admin))

    def commit(self, metric: str) -> None:
        """A new revision of the same proxies, published and ACKed."""
        configs = compile_mesh(self.documents(metric))
        self.plane.publish(*configs.values())
        for node in configs:
            wait_for(lambda n=node: self.plane.settled(n), 20, f"{node} ACKs")

    def stop(self) -> None:
        for item in reversed(self.items):
            item.stop()


def metric(port: int, path: str, sidecar: str = "profiles: {appendProfiles: [{name: All}]}") -> str:
    return f"""
type: MeshMetric
name: metrics
mesh: default
spec:
  targetRef: {{kind: Mesh}}
  default:
    sidecar: {{{sidecar}}}
    backends:
      - type: Prometheus
        prometheus: {{port: {port}, path: {path}}}
"""


@pytest.fixture
def mesh(tmp_path: Path) -> Iterator[Mesh]:
    built = Mesh(tmp_path)
    try:
        yield built
    finally:
        built.stop()


def test_scrape_follows_port_path_and_sidecar_changes(mesh: Mesh) -> None:
    first = free_port(CLIENT)
    mesh.serve(metric(first, "/metrics"))
    for _ in range(SENT):
        assert get((CLIENT, mesh.outbound)) == "web"

    status, body = scrape(CLIENT, first, "/metrics")
    assert status == 200, body
    assert samples(body)[UPSTREAM_RQ] == SENT
    assert UNUSED not in samples(body), "includeUnused unset: only used metrics (usedonly)"
    web_status, web_body = scrape(WEB, first, "/metrics")
    assert web_status == 200 and "envoy_server_live" in web_body  # every selected proxy

    second = free_port(CLIENT)
    mesh.commit(
        metric(second, "/prom", "includeUnused: true, profiles: {appendProfiles: [{name: All}]}")
    )
    status, body = scrape(CLIENT, second, "/prom")
    assert status == 200, body
    assert samples(body)[UPSTREAM_RQ] == SENT
    assert samples(body)[UNUSED] == 0, "includeUnused: true serves unused metrics too"
    assert scrape(CLIENT, second, "/metrics")[0] == 404, "the old path is no longer routed"
    wait_for(lambda: refused(CLIENT, first), 10, "the old metrics port closes")

    mesh.commit(metric(second, "/prom", "profiles: {appendProfiles: [{name: None}]}"))
    status, body = scrape(CLIENT, second, "/prom")
    assert status == 200, body
    assert not [line for line in body.splitlines() if line.startswith("envoy_")], body[:500]


ACTIVE_MTLS = """
type: MeshMetric
name: backend-metrics
mesh: default
spec:
  targetRef: {{ kind: MeshService, name: backend }}
  default:
    sidecar: {{ profiles: {{ appendProfiles: [{{ name: All }}] }} }}
    backends:
      - type: Prometheus
        prometheus: {{ port: {port}, tls: {{ mode: ActiveMTLSBackend }} }}
"""


class MetricsMtlsStack(MeshStack):
    """The mTLS mesh of ``test_mtls.py``; backend-01 serves metrics with ActiveMTLSBackend
    and its admin on a known port (the metrics cluster points there)."""

    def __init__(self, tmp_path: Path) -> None:
        self.metrics_port = free_port("127.0.0.3")
        self.admin_port = free_port()
        super().__init__(tmp_path, extra=(ACTIVE_MTLS.format(port=self.metrics_port),))

    def _mesh(self, mode: str, rotation: str) -> str:
        text = super()._mesh(mode, rotation)
        anchor = "name: backend-01\nnetworking:\n  address: 127.0.0.3\n"
        assert anchor in text
        return text.replace(anchor, f"{anchor}  admin: {{ port: {self.admin_port} }}\n")

    def pem(self, node: str, secret: str) -> bytes:
        """A PEM of ``node``'s SDS secret (its certificate chain, key or the mesh CA)."""
        for message in self.configs()[node].of(TypeUrl.SECRET):
            if message.name.startswith("identity_cert") and secret in ("cert", "key"):
                tls = message.tls_certificate
                return bytes(
                    tls.certificate_chain.inline_bytes
                    if secret == "cert"
                    else tls.private_key.inline_bytes
                )
            if message.name.startswith("mesh_ca") and secret == "ca":
                return bytes(message.validation_context.trusted_ca.inline_bytes)
        raise AssertionError(f"no {secret} secret for {node}")


def tls_scrape(endpoint: tuple[str, int], stack: MetricsMtlsStack, tmp_path: Path) -> str:
    """GET /metrics over TLS with web-01's mesh certificate, checking the server's against
    the mesh CA; the body, or the error."""
    files = {}
    for secret in ("cert", "key", "ca"):
        files[secret] = tmp_path / f"client.{secret}.pem"
        files[secret].write_bytes(stack.pem("default.web-01", secret))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False  # mesh certificates name SPIFFE URIs, not hosts
    context.load_verify_locations(cafile=str(files["ca"]))
    context.load_cert_chain(str(files["cert"]), str(files["key"]))
    conn = http.client.HTTPSConnection(*endpoint, timeout=5, context=context)
    try:
        conn.request("GET", "/metrics")
        return conn.getresponse().read().decode()
    except (OSError, ssl.SSLError) as exc:
        return f"error: {exc}"
    finally:
        conn.close()


def plain_scrape(endpoint: tuple[str, int], source: str) -> str:
    conn = http.client.HTTPConnection(*endpoint, timeout=5, source_address=(source, 0))
    try:
        conn.request("GET", "/metrics")
        return conn.getresponse().read().decode()
    except OSError as exc:
        return f"error: {exc}"
    finally:
        conn.close()


def test_active_mtls_backend_needs_a_mesh_certificate_except_from_its_own_address(
    tmp_path: Path,
) -> None:
    stack = MetricsMtlsStack(tmp_path)
    try:
        plane = stack.plane()
        node = "default.backend-01"
        stack.add(
            Envoy(
                tmp_path / "backend-01",
                node,
                plane.xds_port,
                sotw=False,
                admin_port=stack.admin_port,
            )
        )
        wait_for(lambda: plane.settled(node, ("CDS", "LDS", "SDS")), 30, "backend-01 ACKs")
        endpoint = ("127.0.0.3", stack.metrics_port)
        body = wait_for(
            lambda: (b := tls_scrape(endpoint, stack, tmp_path)).startswith("# TYPE") and b,
            10,
            "an mTLS scrape with a mesh certificate",
        )
        assert "envoy_server_live" in body
        # plaintext from another address matches no filter chain: the connection is closed
        assert plain_scrape(endpoint, "127.0.0.2").startswith("error")
        # plaintext from the Dataplane's own address (a scraper beside the proxy) is served
        assert "envoy_server_live" in plain_scrape(endpoint, "127.0.0.3")
    finally:
        stack.stop()
