"""MeshService ports and MeshExternalServices, proven with real Envoys and real traffic.

One mesh: a client proxy ``web`` with backendRef outbounds to

* two ports of MeshService ``api`` (one app behind two inbounds): a MeshHTTPRoute entry with
  ``sectionName: http`` adds a response header on that port only (Kuma ``isRelevant``);
* MeshExternalService ``plain``: an HTTP server that is not a Dataplane, reached directly by
  the sidecar (no ZoneEgress in this control plane);
* MeshExternalService ``secure``: an HTTPS server whose certificate (for ``ext.test``, from a
  test CA) the sidecar verifies while originating TLS; ``wrong-name`` is the same server
  expecting ``other.test``, so verification fails and the request is refused.
"""

from __future__ import annotations

import contextlib
import datetime
import http.client
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from xds_harness import App, Envoy, PlaneThread, free_port, wait_for

from reconciler.compile.compiler import compile_resources
from reconciler.load import SourceFile
from reconciler.pipeline import analyze

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_pki(directory: Path) -> tuple[str, Path, Path]:
    """A CA (PEM text) and a server certificate for DNS ext.test signed by it (files)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("e2e test CA"))
        .issuer_name(_name("e2e test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("ext.test"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("ext.test")]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = directory / "server.pem", directory / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca.public_bytes(serialization.Encoding.PEM).decode(), cert_file, key_file


class HttpsApp:
    """An HTTPS server (not a Dataplane) that answers every GET with its name."""

    def __init__(self, name: str, host: str, cert: Path, key: Path) -> None:
        body = name.encode()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.server.daemon_threads = True
        self.endpoint = (host, int(self.server.server_address[1]))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def request(endpoint: tuple[str, int]) -> tuple[int, str, dict[str, str]]:
    conn = http.client.HTTPConnection(*endpoint, timeout=5)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        body = response.read().decode()
        return response.status, body, {k.lower(): v for k, v in response.getheaders()}
    finally:
        conn.close()


class Mesh:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.items: list[Any] = []
        ca, cert, key = make_pki(tmp_path)
        self.api = self.add(App("api"))
        self.plain = self.add(App("plain external", host="127.0.0.5"))
        self.secure = self.add(HttpsApp("secure external", "127.0.0.6", cert, key))
        self.ca = ca
        self.outbounds = {
            name: ("127.0.0.2", free_port("127.0.0.2"))
            for name in ("http", "alt", "plain", "secure", "wrong-name")
        }
        self.inbounds = {
            "web": free_port("127.0.0.2"),
            "main": free_port("127.0.0.3"),
            "alt": free_port("127.0.0.3"),
        }
        self.plane = self.add(PlaneThread())
        self.envoys: dict[str, Envoy] = {}

    def add(self, item: Any) -> Any:
        self.items.append(item)
        return item

    def _external(self, name: str, server_name: str) -> str:
        ca = self.ca.replace("\n", "\\n")
        return f"""
type: MeshExternalService
name: {name}
mesh: default
spec:
  match: {{type: HostnameGenerator, port: 443, protocol: http}}
  endpoints: [{{address: {self.secure.endpoint[0]}, port: {self.secure.endpoint[1]}}}]
  tls:
    enabled: true
    verification:
      serverName: {server_name}
      caCert: {{inlineString: "{ca}"}}
"""

    def documents(self) -> list[str]:
        outs = {
            "http": "{kind: MeshService, name: api, port: 80}",
            "alt": "{kind: MeshService, name: api, port: 8081}",
            "plain": "{kind: MeshExternalService, name: plain}",
            "secure": "{kind: MeshExternalService, name: secure}",
            "wrong-name": "{kind: MeshExternalService, name: wrong-name}",
        }
        outbound = "".join(
            f"\n    - {{address: {a}, port: {p}, backendRef: {outs[n]}}}"
            for n, (a, p) in self.outbounds.items()
        )
        return [
            "type: Mesh\nname: default\n",
            f"""
type: Dataplane
mesh: default
name: web-1
networking:
  address: 127.0.0.2
  inbound:
    - port: {self.inbounds["web"]}
      servicePort: {free_port()}
      tags: {{kuma.io/service: web, kuma.io/protocol: http}}
  outbound:{outbound}
""",
            f"""
type: Dataplane
mesh: default
name: api-1
networking:
  address: 127.0.0.3
  inbound:
    - port: {self.inbounds["main"]}
      name: main
      servicePort: {self.api.endpoint[1]}
      tags: {{kuma.io/service: api, kuma.io/protocol: http, app: api}}
    - port: {self.inbounds["alt"]}
      name: alt
      servicePort: {self.api.endpoint[1]}
      tags: {{kuma.io/service: api-alt, kuma.io/protocol: http, app: api}}
""",
            """
type: MeshService
name: api
mesh: default
spec:
  selector:
    dataplaneTags: {app: api}
  ports:
    - {name: http, port: 80, targetPort: main, appProtocol: http}
    - {port: 8081, targetPort: alt, appProtocol: http}
""",
            f"""
type: MeshExternalService
name: plain
mesh: default
spec:
  match: {{type: HostnameGenerator, port: 80, protocol: http}}
  endpoints: [{{address: {self.plain.endpoint[0]}, port: {self.plain.endpoint[1]}}}]
""",
            self._external("secure", "ext.test"),
            self._external("wrong-name", "other.test"),
            """
type: MeshHTTPRoute
name: api-http-port
mesh: default
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: api, sectionName: http}
      rules:
        - matches: [{path: {type: PathPrefix, value: /}}]
          default:
            filters:
              - type: ResponseHeaderModifier
                responseHeaderModifier:
                  add: [{name: x-port, value: http}]
""",
        ]

    def serve(self) -> None:
        text = "\n---\n".join(self.documents())
        analysis = analyze([SourceFile("mesh.yaml", text.encode())])
        assert analysis.ok, [d.format_text() for d in analysis.diagnostics]
        configs = compile_resources(list(analysis.resources)).configs
        self.plane.publish(*configs.values())
        for node in configs:
            name = node.split(".", 1)[1]
            self.envoys[name] = self.add(
                Envoy(self.tmp_path / name, node, self.plane.xds_port, sotw=False)
            )
        for node in configs:
            wait_for(lambda n=node: self.plane.settled(n), 20, f"{node} ACKs")

    def stop(self) -> None:
        for item in reversed(self.items):
            item.stop()


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    m = Mesh(tmp_path_factory.mktemp("mesh-services"))
    try:
        m.serve()
        yield m
    finally:
        m.stop()


def _answer(mesh: Mesh, outbound: str) -> tuple[int, str, dict[str, str]]:
    """The first non-503 answer (Envoy may still be resolving / connecting), else the last."""
    last: list[tuple[int, str, dict[str, str]]] = []

    def attempt() -> bool:
        last[:] = [request(mesh.outbounds[outbound])]
        return last[0][0] != 503

    with contextlib.suppress(AssertionError):  # the last answer (a 503) is what is checked
        wait_for(attempt, 10, f"an answer through {outbound}")
    return last[0]


def test_section_name_policy_applies_to_its_port_only(mesh: Mesh) -> None:
    status, body, headers = _answer(mesh, "http")
    assert (status, body, headers.get("x-port")) == (200, "api", "http")
    status, body, headers = _answer(mesh, "alt")
    assert (status, body) == (200, "api")
    assert "x-port" not in headers


def test_plain_http_external_service_is_reached_directly(mesh: Mesh) -> None:
    assert _answer(mesh, "plain")[:2] == (200, "plain external")


def test_tls_origination_verifies_the_certificate_and_the_server_name(mesh: Mesh) -> None:
    assert _answer(mesh, "secure")[:2] == (200, "secure external")
    # same server, but the sidecar expects other.test: the SAN check fails, the request 503s
    assert request(mesh.outbounds["wrong-name"])[0] == 503
    web = mesh.envoys["web-1"]
    assert web.stat("cluster.default_wrong-name___extsvc_443.ssl.fail_verify_san") >= 1
    assert web.stat("cluster.default_secure___extsvc_443.ssl.fail_verify_san") == 0
    assert web.stat("cluster.default_secure___extsvc_443.ssl.handshake") >= 1
