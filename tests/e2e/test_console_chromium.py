"""The web console in a real headless Chromium: `reconciler serve` on a git repository with
a real Envoy connected (and one whose stream is refused), three commits (applied, applied,
refused), and every page loaded and followed by its links as a user would.

Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). With
UPDATE_SCREENSHOTS=1 the screenshots go to docs/console/ (the README links them).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from git_repo import Repo
from polling import wait_for
from xds_harness import Envoy, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

ROOT = Path(__file__).resolve().parents[2]
RECONCILER = Path(sys.executable).parent / "reconciler"
CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
XSS = "<script>alert(1)</script>"
FRONTEND, BACKEND = "default.frontend-1", "default.backend-1"

MESH = """\
type: Mesh
name: default
mtls:
  enabledBackend: ca-1
  backends:
    - name: ca-1
      type: builtin
"""


def dataplanes(subnet: str) -> str:
    return f"""\
type: Dataplane
mesh: default
name: frontend-1
networking:
  address: {subnet}1
  inbound:
    - port: 8080
      servicePort: {free_port()}
      tags: {{kuma.io/service: frontend, kuma.io/protocol: http}}
  outbound:
    - port: 10001
      address: {subnet}1
      tags: {{kuma.io/service: backend}}
---
type: Dataplane
mesh: default
name: backend-1
networking:
  address: {subnet}2
  inbound:
    - port: 8080
      servicePort: {free_port()}
      tags: {{kuma.io/service: backend, kuma.io/protocol: http}}
"""


def policies(timeout: str) -> str:
    return f"""\
type: MeshTimeout
name: backend-timeout
mesh: default
spec:
  targetRef: {{kind: Mesh}}
  to:
    - targetRef: {{kind: MeshService, name: backend}}
      default: {{http: {{requestTimeout: {timeout}}}}}
---
type: MeshTrafficPermission
name: frontend-to-backend
mesh: default
spec:
  targetRef: {{kind: MeshService, name: backend}}
  from:
    - targetRef: {{kind: MeshService, name: frontend}}
      default: {{action: Allow}}
"""


BAD_DATAPLANE = f"""\
---
type: Dataplane
mesh: default
name: "{XSS}"
networking:
  address: 127.0.0.9
  inbound:
    - port: 8080
      servicePort: 18080
      tags: {{kuma.io/service: "{XSS}"}}
"""


class Server:
    def __init__(self, repo: Path, state: Path, log: Path) -> None:
        self.xds_port, self.http_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.log = log.open("wb")
        self.process = subprocess.Popen(
            [
                str(RECONCILER),
                "serve",
                str(repo),
                "--state-dir",
                str(state),
                "--xds-address",
                f"127.0.0.1:{self.xds_port}",
                "--http-address",
                f"127.0.0.1:{self.http_port}",
                "--interval",
                "300s",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def status(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url + "/status", timeout=5) as response:
            return json.load(response)  # type: ignore[no-any-return]

    def proxy(self, node: str) -> dict[str, Any]:
        return next(p for p in self.status()["proxies"] if p["id"] == node)

    def acked(self, node: str) -> bool:
        entry = self.proxy(node)
        served = {t: v["version"] for t, v in entry["served"].items()}
        acked = {t: v["acked"] for t, v in entry["versions"].items()}
        return bool(served) and all(acked.get(t) == v for t, v in served.items())

    def applied(self, sha: str) -> bool:
        status = self.status()
        return bool(status["lastAttemptedRevision"] == sha)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.log.close()


class Browser:
    """Selenium driving Debian's chromium through its chromedriver."""

    def __init__(self, shots: Path) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000"):
            options.add_argument(arg)
        self.driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        self.driver.set_page_load_timeout(30)
        self.shots = shots

    def open(self, url: str) -> None:
        self.driver.get(url)

    def click(self, text: str) -> None:
        from selenium.webdriver.common.by import By

        links = self.driver.find_elements(By.LINK_TEXT, text)
        assert links, f"no link {text!r} on {self.driver.current_url}"
        links[0].click()

    def first_cells(self, table: str) -> list[str]:
        from selenium.webdriver.common.by import By

        cells = self.driver.find_elements(By.CSS_SELECTOR, f"{table} tbody tr td:first-child")
        return [str(c.text) for c in cells]

    def search(self, query: str) -> None:
        from selenium.webdriver.common.by import By

        box = self.driver.find_element(By.NAME, "q")
        box.send_keys(query)
        box.submit()

    def text(self, css: str = "body") -> str:
        from selenium.webdriver.common.by import By

        return str(self.driver.find_element(By.CSS_SELECTOR, css).text)

    def h1(self) -> str:
        return self.text("h1")

    def scripts(self) -> int:
        from selenium.webdriver.common.by import By

        return len(self.driver.find_elements(By.TAG_NAME, "script"))

    def shot(self, name: str) -> None:
        self.driver.save_screenshot(str(self.shots / f"{name}.png"))

    def stop(self) -> None:
        self.driver.quit()


@pytest.fixture
def stack() -> Iterator[list[Any]]:
    items: list[Any] = []
    try:
        yield items
    finally:
        for item in reversed(items):
            item.stop()


def issue_token(node: str, state: Path) -> str:
    return subprocess.run(
        [str(RECONCILER), "token", "issue", "--proxy", node, "--state-dir", str(state)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()


@pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
)
def test_console_pages_in_chromium(tmp_path: Path, stack: list[Any]) -> None:
    subnet = f"127.0.{random.randint(100, 250)}."
    repo = Repo(tmp_path / "repo")
    repo.write("mesh.yaml", MESH)
    repo.write("dataplanes.yaml", dataplanes(subnet))
    repo.write("policies.yaml", policies("3s"))
    first = repo.commit("mesh, two proxies, a timeout")
    state = tmp_path / "state"
    token = issue_token(FRONTEND, state)

    server = Server(repo.path, state, tmp_path / "serve.log")
    stack.append(server)
    wait_for(lambda: server.status()["lastAppliedRevision"] == first, 60, "first revision")
    stack.append(Envoy(tmp_path / "frontend", FRONTEND, server.xds_port, sotw=False, token=token))
    # backend-1 receives private keys (mTLS) but presents no token: its stream is refused
    stack.append(Envoy(tmp_path / "backend", BACKEND, server.xds_port, sotw=True))
    wait_for(lambda: server.acked(FRONTEND), 30, "frontend ACKed every type")
    wait_for(lambda: server.proxy(BACKEND)["authError"], 30, "backend's stream refused")

    repo.write("policies.yaml", policies("5s"))
    second = repo.commit("backend timeout 3s -> 5s")
    server.process.send_signal(signal.SIGHUP)
    wait_for(lambda: server.status()["lastAppliedRevision"] == second, 30, "second revision")
    wait_for(lambda: server.acked(FRONTEND), 30, "frontend ACKed the new routes")

    repo.write("dataplanes.yaml", dataplanes(subnet) + BAD_DATAPLANE)
    third = repo.commit(f"a proxy named {XSS}")
    server.process.send_signal(signal.SIGHUP)
    wait_for(lambda: server.applied(third), 30, "third revision attempted (and refused)")
    assert server.status()["lastAppliedRevision"] == second

    shots = ROOT / "docs" / "console" if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
    browser = Browser(shots)
    stack.append(browser)

    # revisions: applied and attempted, the refusal with every diagnostic at file:line
    browser.open(server.url + "/console/")
    assert browser.h1() == "Revisions"
    summary = browser.text("#summary")
    assert f"last applied revision {second[:12]}" in summary
    assert f"last attempted revision {third[:12]}" in summary
    body = browser.text()
    assert "Last attempted revision was refused" in body
    assert "dataplanes.yaml:33:14" in body and "RC308" in body
    assert f"Dataplane default/{XSS}" in body  # shown as text, escaped
    assert f"a proxy named {XSS}" in browser.text("#attempts")
    assert browser.scripts() == 0
    browser.shot("revisions")

    # the diff the second revision made
    browser.click(second[:12])
    assert browser.h1() == f"Revision {second[:12]}"
    assert "proxies: 0 created, 1 configured, 0 deleted" in browser.text("#counts")
    body = browser.text()
    assert "configured MeshTimeout default/backend-timeout policies.yaml:1" in body
    assert '"3s" -> "5s"' in body
    browser.shot("revision-diff")

    # one proxy: its xDS state, provenance and served config (no private key)
    browser.click(FRONTEND)
    assert browser.h1() == f"Proxy {FRONTEND}"
    body = browser.text()
    assert "connected (1 stream(s))" in body
    assert "backend-timeout (policies.yaml:1)" in body
    assert "spec.to[0].default.http.requestTimeout at policies.yaml" in body
    assert "[redacted]" in body
    assert "PRIVATE KEY" not in browser.driver.page_source
    versions = browser.text("#versions")
    for type_short in ("CDS", "EDS", "LDS", "RDS", "SDS"):
        assert type_short in versions
    browser.shot("proxy")

    # which proxies a policy selects
    browser.click("backend-timeout")
    assert browser.h1() == "MeshTimeout default/backend-timeout"
    assert browser.text("#selected").splitlines() == [BACKEND, FRONTEND]
    browser.shot("policy")

    # every proxy: connected, protocol, versions, the refused stream
    browser.click("Proxies")
    assert browser.h1() == "Proxies"
    rows = {line.split(" ")[0]: line for line in browser.text("#proxies").splitlines()}
    assert "connected" in rows[FRONTEND] and "delta" in rows[FRONTEND]
    assert "stream refused" in browser.text("#proxies")
    browser.shot("proxies")
    browser.search("frontend")  # the list's filter: a GET form, allowed by the page's CSP
    assert browser.first_cells("#proxies") == [FRONTEND]
    assert "1-1 of 1, page 1 of 1" in browser.text(".pager")

    browser.click("Policies")
    rows = {line.split(" ")[0]: line for line in browser.text("#policies").splitlines()}
    assert rows["backend-timeout"].endswith("policies.yaml:1 2")
    assert rows["frontend-to-backend"].endswith("policies.yaml:10 1")
    browser.shot("policies")

    # the refused revision has its own page; a name is never markup
    browser.open(server.url + "/console/revisions/" + third)
    assert "RC308" in browser.text() and browser.scripts() == 0
    browser.open(server.url + "/console/proxies/" + XSS.replace("/", ""))
    assert browser.h1() == "Not found"
