"""MeshTLS with real Envoys: the mesh's mTLS limited to TLS 1.3 (Kuma 2.14 ``meshtls``).

The mTLS mesh of ``test_mtls.py`` plus a MeshTLS for every proxy with ``tlsVersion`` min and
max TLS13: mesh traffic keeps flowing (both sides speak TLS 1.3), while a client that offers
TLS 1.2 at most is refused by the backend's inbound during the handshake, for its version.
"""

from __future__ import annotations

import socket
import ssl
from pathlib import Path
from typing import Any

import pytest
from polling import wait_for
from test_mtls import MeshStack
from xds_harness import get

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

MESH_TLS = """
type: MeshTLS
mesh: default
name: tls13-only
spec:
  targetRef: { kind: Mesh }
  from:
    - targetRef: { kind: Mesh }
      default:
        tlsVersion: { min: TLS13, max: TLS13 }
"""


class Tls13Stack(MeshStack):
    def _mesh(self, mode: str, rotation: str) -> str:
        return super()._mesh(mode, rotation) + "---\n" + MESH_TLS.strip() + "\n"


def handshake_error(endpoint: tuple[str, int], maximum: ssl.TLSVersion) -> str:
    """The handshake's failure with a client limited to ``maximum`` ("" if it succeeded)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.maximum_version = maximum
    context.set_alpn_protocols(["kuma"])
    with socket.create_connection(endpoint, timeout=5) as raw:
        try:
            with context.wrap_socket(raw) as tls:
                tls.recv(1)  # a server that wants a client certificate fails it here (1.3)
        except (ssl.SSLError, OSError) as exc:
            return str(exc)
    return ""


@pytest.fixture
def stack(tmp_path: Path) -> Any:
    built = Tls13Stack(tmp_path)
    try:
        yield built
    finally:
        built.stop()


def test_tls12_client_refused_while_mesh_traffic_works(stack: Tls13Stack) -> None:
    plane = stack.plane()
    stack.envoy(plane, "web-01")
    backend = stack.envoy(plane, "backend-01")
    stack.envoy(plane, "db-01")
    assert wait_for(
        lambda: get(stack.out["web_backend"]) == "backend-app", 30, "web -> backend over TLS 1.3"
    )
    refused = handshake_error(stack.backend_inbound, ssl.TLSVersion.TLSv1_2)
    assert "PROTOCOL_VERSION" in refused.upper() or "UNSUPPORTED_PROTOCOL" in refused.upper()
    # a TLS 1.3 client gets past the version check (and fails later, without a certificate)
    allowed = handshake_error(stack.backend_inbound, ssl.TLSVersion.TLSv1_3)
    assert "PROTOCOL_VERSION" not in allowed.upper()
    assert backend.stats("ssl.handshake")
