"""Three ``reconciler serve`` replicas of one git repository, real Envoys bootstrapped with all
three, traffic over mTLS between them: the replica failover scenario of the e2e test and of
``bench/replicas.py``.

The replicas share ``--mesh-ca`` and ``--token-key`` (each keeps its own state dir and issues
its own leaf certificates from the shared CA). Everything listens on 127.0.0.0/8; every wait is
bounded; every process is stopped by its own handle.
"""

from __future__ import annotations

import signal
import textwrap
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from xds_harness import App, Envoy, Load, free_port, get

from git_repo import Repo  # isort: skip
from polling import wait_for  # isort: skip
from serve_process import Server  # isort: skip
from reconciler.identity.ca import create_ca, key_pem
from reconciler.identity.tokens import load_signer

NODES = ("default.web-01", "default.backend-01")
WEB = "default.web-01"
REPLICATED = ("CDS", "EDS", "LDS", "RDS")
"""The types whose versions must be equal on every replica (SDS holds each replica's own
leaf certificate)."""
TYPES = (*REPLICATED, "SDS")


def mesh_yaml(ports: dict[str, int], timeout: str) -> str:
    """web-01 calls backend-01 over mTLS through its outbound ``ports["web_out"]``."""
    return textwrap.dedent(f"""\
        type: Mesh
        name: default
        mtls:
          enabledBackend: ca-1
          backends:
            - name: ca-1
              type: builtin
              mode: STRICT
        ---
        type: Dataplane
        mesh: default
        name: web-01
        networking:
          address: 127.0.0.2
          inbound:
            - port: {ports["web_in"]}
              servicePort: {ports["web_app"]}
              tags: {{ kuma.io/service: web, kuma.io/protocol: http }}
          outbound:
            - {{ address: 127.0.0.2, port: {ports["web_out"]}, tags: {{ kuma.io/service: backend }} }}
        ---
        type: Dataplane
        mesh: default
        name: backend-01
        networking:
          address: 127.0.0.3
          inbound:
            - port: {ports["backend_in"]}
              servicePort: {ports["backend_app"]}
              tags: {{ kuma.io/service: backend, kuma.io/protocol: http }}
        ---
        type: MeshTrafficPermission
        mesh: default
        name: web-to-backend
        spec:
          targetRef: {{ kind: MeshService, name: backend }}
          from:
            - targetRef: {{ kind: MeshService, name: web }}
              default: {{ action: Allow }}
        ---
        type: MeshTimeout
        mesh: default
        name: web-to-backend
        spec:
          targetRef: {{ kind: MeshService, name: web }}
          to:
            - targetRef: {{ kind: MeshService, name: backend }}
              default: {{ http: {{ requestTimeout: {timeout} }} }}
        """)


def shared_identity(workdir: Path) -> tuple[list[str], Path]:
    """The ``--mesh-ca`` and ``--token-key`` arguments every replica gets, and the key file."""
    ca = create_ca("default", rsa_bits=2048, expiration=timedelta(days=30), now=datetime.now(UTC))
    cert, key = workdir / "ca.crt", workdir / "ca.key"
    cert.write_bytes(ca.cert_pem)
    key.write_bytes(key_pem(ca.key))
    key.chmod(0o600)
    token_key = workdir / "token.key"
    token_key.write_bytes(
        ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    token_key.chmod(0o600)
    return ["--mesh-ca", f"default={cert},{key}", "--token-key", str(token_key)], token_key


@dataclass
class Failover:
    """What one kill did: measured from the kill to the proxy's every type ACKed elsewhere."""

    victim: int
    new_home: int
    seconds_to_acked: float
    requests_failed: int
    requests_ok: int
    resent: dict[str, float]
    """Responses the new replica sent per type while the proxy (and any other proxy of the
    killed replica) reconnected."""
    envoy_updates: dict[str, int]
    """Envoy's own count of CDS and LDS updates accepted over the failover."""
    errors: list[str] = field(default_factory=list)


class Fleet:
    """A git repository with the mesh, three replicas following it, two Envoys, two apps."""

    def __init__(self, workdir: Path, replicas: int = 3) -> None:
        self.workdir = workdir
        self.items: list[Any] = []
        self.web_app = self._add(App("web-app"))
        self.backend_app = self._add(App("backend-app"))
        self.ports = {
            "web_in": free_port("127.0.0.2"),
            "web_out": free_port("127.0.0.2"),
            "web_app": self.web_app.endpoint[1],
            "backend_in": free_port("127.0.0.3"),
            "backend_app": self.backend_app.endpoint[1],
        }
        self.repo = Repo(workdir / "origin")
        self.repo.write("mesh/mesh.yaml", mesh_yaml(self.ports, "15s"))
        self.commits = [self.repo.commit("web calls backend over mTLS")]
        self.args, self.token_key = shared_identity(workdir)
        self.servers: list[Server] = []
        for i in range(replicas):
            self.servers.append(
                self._add(
                    Server(
                        self.repo.path,
                        workdir / f"state-{i}",
                        workdir / f"serve-{i}.log",
                        ["--path", "mesh", *self.args],
                    )
                )
            )
        self.wait_applied(self.commits[-1])
        signer = load_signer(self.token_key)
        now = datetime.now(UTC)
        self.envoys = {
            node: self._add(
                Envoy(
                    workdir / node,
                    node,
                    [s.xds_port for s in self.servers],
                    sotw=False,
                    token=signer.issue(node, ttl=timedelta(hours=1), now=now)[0],
                )
            )
            for node in NODES
        }
        self.target = ("127.0.0.2", self.ports["web_out"])

    def _add(self, item: Any) -> Any:
        self.items.append(item)
        return item

    # -- what the replicas say ----------------------------------------------------------
    def live(self) -> list[int]:
        return [i for i, s in enumerate(self.servers) if s.process.poll() is None]

    def wait_applied(self, sha: str) -> None:
        for i in self.live():
            server = self.servers[i]
            wait_for(lambda s=server: s.applied(sha), 60, f"replica {i} applies {sha[:8]}")

    def served_versions(self, i: int) -> dict[str, dict[str, str]]:
        return {node: config["versions"] for node, config in self.servers[i].served().items()}

    def assert_same_versions(self) -> dict[str, dict[str, str]]:
        """Every live replica serves every proxy the same CDS, EDS, LDS and RDS versions."""
        seen = {i: self.served_versions(i) for i in self.live()}
        first = next(iter(seen.values()))
        assert sorted(first) == sorted(NODES), first
        for i, versions in seen.items():
            for node in NODES:
                for short in REPLICATED:
                    assert versions[node][short] == first[node][short], (
                        f"replica {i} serves {node} {short} {versions[node][short]}, "
                        f"another serves {first[node][short]}"
                    )
        return first

    def homes(self) -> dict[str, int]:
        """The replica each proxy is connected to, once every proxy is on exactly one and has
        ACKed every type it is served there (None until then)."""
        found: dict[str, int] = {}
        for i in self.live():
            for proxy in self.servers[i].status()["proxies"]:
                if proxy["connected"] and proxy["id"] in NODES:
                    if proxy["id"] in found or not settled(proxy):
                        return {}
                    found[proxy["id"]] = i
        return found if len(found) == len(NODES) else {}

    def pushes(self, i: int) -> dict[str, float]:
        server = self.servers[i]
        return {t: server.metric(f'reconciler_xds_pushes_total{{type="{t}"}}') for t in TYPES}

    def envoy_updates(self, node: str) -> dict[str, int]:
        envoy = self.envoys[node]
        return {
            "CDS": envoy.stat("cluster_manager.cds.update_success"),
            "LDS": envoy.stat("listener_manager.lds.update_success"),
        }

    # -- the scenario -------------------------------------------------------------------
    def connected(self) -> dict[str, int]:
        wait_for(lambda: get(self.target) == "backend-app", 30, "web calls backend over mTLS")
        return wait_for(self.homes, 30, "every proxy connected to one replica and settled")

    def kill_home_of(self, node: str, load: Load) -> Failover:
        """SIGKILL the replica ``node`` is connected to while ``load`` runs; wait until it has
        ACKed every type on another replica."""
        homes = self.connected()
        victim = homes[node]
        others = [i for i in self.live() if i != victim]
        before = {i: self.pushes(i) for i in others}
        envoy_before = self.envoy_updates(node)
        acked = {
            p["id"]: p["versions"]
            for p in self.servers[victim].status()["proxies"]
            if p["connected"] and p["id"] in NODES
        }
        served = load_count(load)
        wait_for(lambda: load_count(load) > served + 20, 20, "traffic before the kill")
        failed_before = len(load.errors)
        started = time.monotonic()
        self.servers[victim].process.send_signal(signal.SIGKILL)
        self.servers[victim].process.wait(10)
        moved = wait_for(self.homes, 60, f"{node} ACKed on another replica", every=0.02)
        seconds = time.monotonic() - started
        new_home = moved[node]
        ok = load_count(load)
        wait_for(lambda: load_count(load) > ok + 20, 20, "traffic after the failover")
        resent = {t: sum(self.pushes(i)[t] - before[i][t] for i in others) for t in TYPES}
        envoy_after = self.envoy_updates(node)
        # what the proxies ACKed on the killed replica is what they ACKed on the new one
        errors = []
        for proxy in self.servers[new_home].status()["proxies"]:
            if proxy["id"] in acked and proxy["connected"]:
                for short in REPLICATED:
                    had = acked[proxy["id"]].get(short, {}).get("acked")
                    now = proxy["versions"].get(short, {}).get("acked")
                    if had != now:
                        errors.append(f"{proxy['id']} {short}: {had} before, {now} after")
        return Failover(
            victim=victim,
            new_home=new_home,
            seconds_to_acked=seconds,
            requests_failed=len(load.errors) - failed_before,
            requests_ok=load_count(load) - served,
            resent=resent,
            envoy_updates={k: envoy_after[k] - envoy_before[k] for k in envoy_after},
            errors=errors,
        )

    def commit_timeout(self, timeout: str) -> str:
        sha = self.repo.commit(
            f"backend request timeout {timeout}",
            {"mesh/mesh.yaml": mesh_yaml(self.ports, timeout)},
        )
        self.commits.append(sha)
        for i in self.live():
            self.servers[i].process.send_signal(signal.SIGHUP)  # poll now
        self.wait_applied(sha)
        return sha

    def stop(self) -> None:
        for item in reversed(self.items):
            item.stop()


def settled(proxy: dict[str, Any]) -> bool:
    """Every type the proxy is served is ACKed at the served version."""
    served = proxy.get("served") or {}
    versions = proxy.get("versions") or {}
    return bool(served) and all(
        versions.get(t, {}).get("acked") == v["version"] for t, v in served.items()
    )


def load_count(load: Load) -> int:
    return len(load.answers)
