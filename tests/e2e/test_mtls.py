"""Mesh mTLS with real Envoys: permissions, STRICT inbounds, rotation under load, tokens.

The mesh is compiled from YAML by the real pipeline, secrets come from the real identity
provider (a builtin CA in ``tmp_path``), and Envoys fetch everything, SDS included, over ADS
from the in-process server. Addresses are 127.0.0.2-127.0.0.6; every wait is bounded.
"""

from __future__ import annotations

import http.client
import socket
import socketserver
import textwrap
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from polling import wait_for
from xds_harness import App, Envoy, Load, PlaneThread, free_port, get

from reconciler.compile.compiler import compile_resources
from reconciler.identity.provider import IdentityOptions, IdentityProvider, utc_now
from reconciler.identity.serving import attach_secrets, make_verifier, proxy_identities
from reconciler.identity.tokens import load_or_create_signer
from reconciler.load import SourceFile
from reconciler.pipeline import analyze
from reconciler.resource_types import ProxyConfig
from reconciler.serve.server import ControlPlane

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


class Echo:
    """A TCP server that echoes one line back."""

    def __init__(self) -> None:
        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(self.rfile.readline())

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = ("127.0.0.1", int(self.server.server_address[1]))
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def echo(endpoint: tuple[str, int]) -> str:
    """Send one line through ``endpoint``; '' when the connection is closed on us."""
    try:
        with socket.create_connection(endpoint, timeout=3) as sock:
            sock.sendall(b"ping\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(64)
                if not chunk:
                    break
                data += chunk
            return data.decode()
    except OSError:
        return ""


class MeshEnvoy(Envoy):
    """The harness's real Envoy (Delta ADS), plus the admin views the mTLS tests read."""

    def __init__(self, workdir: Path, node_id: str, xds_port: int, token: str | None) -> None:
        super().__init__(workdir, node_id, xds_port, sotw=False, token=token)

    def stats(self, prefix: str) -> dict[str, int]:
        with urllib.request.urlopen(f"http://{self.admin}/stats?filter={prefix}", timeout=5) as r:
            out = {}
            for line in r.read().decode().splitlines():
                key, _, value = line.partition(": ")
                if value.isdigit():
                    out[key] = int(value)
            return out

    def certs(self) -> str:
        """Envoy's ``/certs``: serial numbers (lower-case hex) of the certificates in use."""
        with urllib.request.urlopen(f"http://{self.admin}/certs", timeout=5) as r:
            return r.read().decode().lower()


class MeshStack:
    """Apps, a mesh YAML with ephemeral ports, the control plane and its identity."""

    def __init__(
        self,
        tmp_path: Path,
        *,
        mode: str = "STRICT",
        rotation: str = "1d",
        backend_permission: str | None = None,
        extra: tuple[str, ...] = (),
    ) -> None:
        self.tmp_path = tmp_path
        self.backend_permission = backend_permission
        self.extra = extra
        self.items: list[Any] = []
        self.app = self.add(App("backend-app", slow_seconds=2.0))
        self.echo = self.add(Echo())
        self.ports = {
            name: free_port(f"127.0.0.{i}")
            for i, name in (
                (2, "web_in"),
                (3, "backend_in"),
                (4, "db_in"),
                (5, "other_in"),
            )
        }
        self.out = {
            "web_backend": ("127.0.0.2", free_port("127.0.0.2")),
            "web_db": ("127.0.0.2", free_port("127.0.0.2")),
            "other_backend": ("127.0.0.5", free_port("127.0.0.5")),
            "other_db": ("127.0.0.5", free_port("127.0.0.5")),
        }
        self.backend_inbound = ("127.0.0.3", self.ports["backend_in"])
        self.yaml = self._mesh(mode, rotation)
        self.provider = IdentityProvider(
            IdentityOptions(state_dir=tmp_path / "state", pool_target=8)
        )
        self.resources = list(self._analysis().resources)
        self.compiled = compile_resources(self.resources).configs

    def add(self, item: Any) -> Any:
        self.items.append(item)
        return item

    def _analysis(self) -> Any:
        analysis = analyze([SourceFile("mesh.yaml", self.yaml.encode())])
        assert analysis.ok, [d.format_text() for d in analysis.diagnostics]
        return analysis

    def _mesh(self, mode: str, rotation: str) -> str:
        p, o = self.ports, self.out
        app_port, echo_port = self.app.endpoint[1], self.echo.endpoint[1]

        def dp(
            name: str,
            address: str,
            port: int,
            service: str,
            protocol: str,
            service_port: int,
            outs: list[tuple[str, tuple[str, int]]],
        ) -> str:
            lines = "".join(
                f"\n    - {{ address: {a}, port: {pt}, tags: {{ kuma.io/service: {s} }} }}"
                for s, (a, pt) in outs
            )
            return f"""
type: Dataplane
mesh: default
name: {name}
networking:
  address: {address}
  inbound:
    - port: {port}
      servicePort: {service_port}
      tags: {{ kuma.io/service: {service}, kuma.io/protocol: {protocol} }}
  outbound:{lines if lines else " []"}
"""

        docs = [
            f"""
type: Mesh
name: default
mtls:
  enabledBackend: ca-1
  backends:
    - name: ca-1
      type: builtin
      mode: {mode}
      dpCert: {{ rotation: {{ expiration: {rotation} }} }}
      conf: {{ caCert: {{ RSAbits: 2048, expiration: 1d }} }}
""",
            dp(
                "web-01",
                "127.0.0.2",
                p["web_in"],
                "web",
                "http",
                free_port(),
                [("backend", o["web_backend"]), ("db", o["web_db"])],
            ),
            dp("backend-01", "127.0.0.3", p["backend_in"], "backend", "http", app_port, []),
            dp("db-01", "127.0.0.4", p["db_in"], "db", "tcp", echo_port, []),
            dp(
                "other-01",
                "127.0.0.5",
                p["other_in"],
                "other",
                "http",
                free_port(),
                [("backend", o["other_backend"]), ("db", o["other_db"])],
            ),
        ]
        for target in ("backend", "db"):
            if target == "backend" and self.backend_permission is not None:
                docs.append(self.backend_permission)
                continue
            docs.append(f"""
type: MeshTrafficPermission
mesh: default
name: only-web-to-{target}
spec:
  targetRef: {{ kind: MeshService, name: {target} }}
  from:
    - targetRef: {{ kind: Mesh }}
      default: {{ action: Deny }}
    - targetRef: {{ kind: MeshService, name: web }}
      default: {{ action: Allow }}
""")
        docs.extend(self.extra)
        return "\n---\n".join(textwrap.dedent(d).strip() for d in docs) + "\n"

    def configs(self) -> dict[str, ProxyConfig]:
        return attach_secrets(self.compiled, proxy_identities(self.resources), self.provider)

    def plane(self, *, tokens: bool = False) -> PlaneThread:
        plane = self.add(PlaneThread())
        if tokens:
            plane.call(plane.plane.stop(0))
            plane.plane = ControlPlane(verifier=make_verifier(self.tmp_path / "state", None))
            plane.call(plane.plane.start("127.0.0.1:0", "127.0.0.1:0"))
        plane.publish(*self.configs().values())
        return plane

    def envoy(self, plane: PlaneThread, name: str, token: str | None = None) -> MeshEnvoy:
        node = f"default.{name}"
        return self.add(MeshEnvoy(self.tmp_path / name, node, plane.xds_port, token))  # type: ignore[no-any-return]

    def stop(self) -> None:
        for item in reversed(self.items):
            item.stop()


@pytest.fixture
def make_stack(tmp_path: Path) -> Iterator[Any]:
    stacks: list[MeshStack] = []

    def make(**kw: Any) -> MeshStack:
        stacks.append(MeshStack(tmp_path, **kw))
        return stacks[-1]

    try:
        yield make
    finally:
        for stack in stacks:
            stack.stop()


def _status(answer: str) -> str:
    return answer.split(":", 1)[0]


def test_allowed_over_mtls_denied_403_tcp_closed_and_no_plaintext(make_stack: Any) -> None:
    stack = make_stack()
    plane = stack.plane()
    web = stack.envoy(plane, "web-01")
    backend = stack.envoy(plane, "backend-01")
    stack.envoy(plane, "db-01")
    stack.envoy(plane, "other-01")
    out = stack.out
    assert wait_for(
        lambda: get(out["web_backend"]) == "backend-app", 30, "web -> backend over mTLS"
    )
    handshakes = backend.stats("ssl.handshake")
    assert any(v > 0 for k, v in handshakes.items() if k.startswith("listener.")), handshakes
    assert web.stats("ssl.handshake").get("cluster.backend.ssl.handshake", 0) > 0
    assert wait_for(lambda: get(out["other_backend"]).startswith("HTTP 403"), 30, "other denied")
    assert wait_for(lambda: echo(out["web_db"]) == "ping\n", 30, "web -> db (TCP) allowed")
    assert echo(out["other_db"]) == "", "a denied TCP source gets a closed connection"
    with pytest.raises(OSError):
        get(stack.backend_inbound, timeout=3.0)  # plaintext to a STRICT inbound


def test_rotation_under_continuous_load_loses_no_request(make_stack: Any) -> None:
    stack = make_stack(rotation="24s")
    plane = stack.plane()
    web = stack.envoy(plane, "web-01")
    backend = stack.envoy(plane, "backend-01")
    target = stack.out["web_backend"]
    assert wait_for(lambda: get(target) == "backend-app", 30, "traffic over mTLS")
    first = {p: stack.provider.current(p).serial for p in ("default.web-01", "default.backend-01")}
    load = Load(target, max_seconds=60)
    try:
        renewed = 0

        def renew_when_due() -> bool:
            nonlocal renewed
            if stack.provider.due():
                plane.publish(*stack.configs().values())
                renewed += 1
            return all(stack.provider.current(p).serial != first[p] for p in first)

        wait_for(renew_when_due, 40, "both certificates due and renewed", every=0.2)
        served = len(load.answers)
        # requests keep flowing over the renewed certificates
        wait_for(lambda: len(load.answers) > served + 100, 20, "traffic after the renewal")
    finally:
        load.stop()
    assert renewed >= 1
    after = {p: stack.provider.current(p).serial for p in first}
    assert all(after[p] != first[p] for p in first), "both certificates were renewed"
    assert load.errors == [], load.errors[:5]
    assert len(load.answers) > 100
    for envoy, node in ((web, "default.web-01"), (backend, "default.backend-01")):
        serial = f"{after[node]:x}"
        assert wait_for(lambda e=envoy, s=serial: s in e.certs(), 10, f"{node} serves the new cert")


def test_stream_with_another_proxys_node_id_gets_nothing(make_stack: Any) -> None:
    stack = make_stack()
    plane = stack.plane(tokens=True)
    signer = load_or_create_signer(stack.tmp_path / "state")
    web_token, _ = signer.issue("default.web-01", ttl=timedelta(hours=1), now=utc_now())
    impostor = stack.envoy(plane, "backend-01", token=web_token)
    anonymous = stack.envoy(plane, "db-01")
    web = stack.envoy(plane, "web-01", token=web_token)
    wait_for(
        lambda: (
            web.stats("listener_manager.total_listeners_active").get(
                "listener_manager.total_listeners_active", 0
            )
            >= 2
        ),
        30,
        "web gets its listeners",
    )
    wait_for(
        lambda: sum(1 for p in plane.status()["proxies"] if p.get("authError")) >= 2,
        20,
        "both refused streams in status",
    )
    time.sleep(1.0)
    problems = {p["id"]: (p["authError"] or {}).get("problem") for p in plane.status()["proxies"]}
    assert problems["default.backend-01"] == "wrong-proxy"
    assert problems["default.db-01"] == "missing"
    for envoy in (impostor, anonymous):
        stats = envoy.stats(
            "listener_manager.total_listeners_active|cluster_manager.active_clusters"
        )
        assert stats.get("listener_manager.total_listeners_active", 0) == 0, stats
        assert stats.get("cluster_manager.active_clusters", 0) <= 1, stats  # only xds_cluster


def test_permissive_inbound_accepts_plaintext_and_mtls(make_stack: Any) -> None:
    stack = make_stack(mode="PERMISSIVE")
    plane = stack.plane()
    stack.envoy(plane, "web-01")
    backend = stack.envoy(plane, "backend-01")
    assert wait_for(lambda: get(stack.out["web_backend"]) == "backend-app", 30, "mTLS caller")
    assert wait_for(lambda: get(stack.backend_inbound) == "backend-app", 30, "plaintext caller")
    handshakes = backend.stats("ssl.handshake")
    assert any(v > 0 for k, v in handshakes.items() if k.startswith("listener.")), handshakes


RULES_ONLY_WEB = """
type: MeshTrafficPermission
mesh: default
name: backend-by-identity
spec:
  targetRef: { kind: MeshService, name: backend }
  rules:
    - default:
        allow:
          - spiffeID: { type: Prefix, value: "spiffe://default/web" }
"""


def test_permission_rules_allow_by_spiffe_id_and_deny_the_rest(make_stack: Any) -> None:
    """MeshTrafficPermission rules[] (Kuma 2.14 RBACConfigurer): the peer certificate's URI
    SAN is matched; our certificates also carry kuma:// tag SANs (as Kuma's builtin CA), so
    the URI SAN input holds several values and the example uses a Prefix match."""
    stack = make_stack(backend_permission=RULES_ONLY_WEB)
    plane = stack.plane()
    for name in ("web-01", "backend-01", "db-01", "other-01"):
        stack.envoy(plane, name)
    out = stack.out
    assert wait_for(lambda: get(out["web_backend"]) == "backend-app", 30, "web allowed by rule")
    assert wait_for(lambda: _status(get(out["other_backend"])) == "HTTP 403", 30, "other denied")
    assert {get(out["web_backend"]) for _ in range(5)} == {"backend-app"}


TIMEOUT_FOR_WEB = """
type: MeshTimeout
mesh: default
name: web-impatient
spec:
  targetRef: { kind: MeshService, name: backend }
  rules:
    - matches:
        - spiffeID: { type: Prefix, value: "spiffe://default/web" }
      default:
        http: { requestTimeout: 300ms }
"""
ALLOW_OTHER = """
type: MeshTrafficPermission
mesh: default
name: backend-for-all
spec:
  targetRef: { kind: MeshService, name: backend }
  from:
    - targetRef: { kind: Mesh }
      default: { action: Allow }
"""


def test_timeout_rules_by_spiffe_id_time_out_only_that_peers_requests(make_stack: Any) -> None:
    """MeshTimeout rules[] with a spiffeID match (Kuma ConfigureMatchedRoutes): the backend's
    inbound route is copied for peers whose URI SAN starts with spiffe://default/web (the
    set_filter_state filter reads it after the TLS handshake), with a 300ms timeout."""
    stack = make_stack(backend_permission=ALLOW_OTHER, extra=(TIMEOUT_FOR_WEB,))
    plane = stack.plane()
    for name in ("web-01", "backend-01", "db-01", "other-01"):
        stack.envoy(plane, name)
    out = stack.out
    assert wait_for(lambda: get(out["web_backend"]) == "backend-app", 30, "web reaches backend")
    assert wait_for(lambda: get(out["other_backend"]) == "backend-app", 30, "other reaches it")
    # the slow path: web's requests hit the 300ms copy of the route, other's the original
    assert _status(get_path(out["web_backend"], "/slow")) == "HTTP 504"
    assert get_path(out["other_backend"], "/slow") == "backend-app"


def get_path(endpoint: tuple[str, int], path: str) -> str:
    conn = http.client.HTTPConnection(*endpoint, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read().decode()
        return body if response.status == 200 else f"HTTP {response.status}: {body}"
    finally:
        conn.close()


LIMIT_FOR_WEB = """
type: MeshRateLimit
mesh: default
name: web-limited
spec:
  targetRef: { kind: MeshService, name: backend }
  rules:
    - matches:
        - spiffeID: { type: Prefix, value: "spiffe://default/web" }
      default:
        local:
          http: { requestRate: { num: 1, interval: 60s } }
"""


def test_rate_limit_rules_by_spiffe_id_limit_only_that_peer(make_stack: Any) -> None:
    """MeshRateLimit rules[] with a spiffeID match (Kuma ConfigureMatchedRoutesOnFilterChain):
    web's copy of the route allows one request a minute; other has no limit."""
    stack = make_stack(backend_permission=ALLOW_OTHER, extra=(LIMIT_FOR_WEB,))
    plane = stack.plane()
    for name in ("web-01", "backend-01", "db-01", "other-01"):
        stack.envoy(plane, name)
    out = stack.out
    assert wait_for(lambda: get(out["other_backend"]) == "backend-app", 30, "other reaches it")
    assert wait_for(lambda: _status(get(out["web_backend"])) == "HTTP 429", 30, "web limited")
    assert {_status(get(out["web_backend"])) for _ in range(3)} == {"HTTP 429"}
    assert {get(out["other_backend"]) for _ in range(5)} == {"backend-app"}


FAULT_FOR_WEB = """
type: MeshFaultInjection
mesh: default
name: web-chaos
spec:
  targetRef: { kind: MeshService, name: backend }
  rules:
    - default:
        http:
          - delay: { value: 1ms, percentage: 100 }
    - matches:
        - spiffeID: { type: Prefix, value: "spiffe://default/web" }
      default:
        http:
          - abort: { httpStatus: 418, percentage: 100 }
"""


def test_fault_rules_by_spiffe_id_abort_only_that_peers_requests(make_stack: Any) -> None:
    """MeshFaultInjection rules[] (Kuma Configurer): the spiffeID rule's fault is skipped for
    other peers; the catch-all rule's filter (an empty matcher) runs for everyone."""
    stack = make_stack(backend_permission=ALLOW_OTHER, extra=(FAULT_FOR_WEB,))
    plane = stack.plane()
    for name in ("web-01", "backend-01", "db-01", "other-01"):
        stack.envoy(plane, name)
    out = stack.out
    assert wait_for(lambda: get(out["other_backend"]) == "backend-app", 30, "other reaches it")
    assert wait_for(lambda: _status(get(out["web_backend"])) == "HTTP 418", 30, "web aborted")
    assert {get(out["other_backend"]) for _ in range(5)} == {"backend-app"}
