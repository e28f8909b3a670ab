"""Web console figures: page load times with 1,000 proxies connected.

    .venv/bin/python bench/console.py [--dataplanes 1000] [--policies 3999] [--proxies 1000]
                                      [--loads 5]

``bench/generate_mesh.py``'s repository (5,000 files by default) committed to a local git
repository; the real ``reconciler serve`` follows it; ``--proxies`` simulated ADS clients
(``bench/gitops.py``'s, a separate process: SotW, every type, ACK every response) connect
and ACK the first revision; one one-policy commit is pushed (webhook), so the revision page
has a diff. Then each console page is loaded ``--loads`` times:

* **HTTP**: the whole response read by ``urllib`` (server time and transfer);
* **Chromium**: the page loaded by Debian's headless Chromium through selenium, from
  navigation start to the ``load`` event (parse, style, layout), when it is installed.

The first load of a revision's diff and of the policies page compute what later loads
reuse: they are reported apart.
Prints markdown tables.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
sys.path.insert(0, str(ROOT))


def gitops() -> Any:
    spec = importlib.util.spec_from_file_location("bench_gitops", BENCH / "gitops.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fetch(url: str) -> tuple[float, int]:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as response:
        body = response.read()
        assert response.status == 200, (url, response.status)
    return time.perf_counter() - started, len(body)


class Chromium:
    def __init__(self) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = str(shutil.which("chromium"))
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000"):
            options.add_argument(arg)
        self.driver = webdriver.Chrome(
            service=Service(str(shutil.which("chromedriver"))), options=options
        )
        self.driver.set_page_load_timeout(120)

    def load(self, url: str) -> float:
        self.driver.get(url)  # returns after the load event
        timing = self.driver.execute_script(
            "const t = performance.getEntriesByType('navigation')[0];"
            "return [t.startTime, t.loadEventEnd];"
        )
        return float(timing[1] - timing[0]) / 1000

    def stop(self) -> None:
        self.driver.quit()


def measure(pages: list[tuple[str, str]], loads: int, browser: Chromium | None) -> list[str]:
    rows = []
    for label, url in pages:
        http = [fetch(url) for _ in range(loads)]
        seconds = [t for t, _ in http]
        shown = [browser.load(url) for _ in range(loads)] if browser is not None else []
        rows.append(
            f"| {label} | {http[0][1] / 1024:.0f} | {statistics.median(seconds) * 1000:.0f} "
            f"| {max(seconds) * 1000:.0f} | "
            + (
                f"{statistics.median(shown) * 1000:.0f} | {max(shown) * 1000:.0f} |"
                if shown
                else "- | - |"
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataplanes", type=int, default=1000)
    parser.add_argument("--policies", type=int, default=3999)
    parser.add_argument("--proxies", type=int, default=1000, help="simulated ADS clients")
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args()
    g = gitops()
    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        work = Path(tmp)
        repo = work / "origin"
        g.generator()(repo / "mesh", dataplanes=args.dataplanes, policies=args.policies)
        policy = repo / "mesh" / "policies" / "meshtimeout" / "bench-timeout.yaml"
        policy.write_text(g.BENCH_POLICY.format(service=g.http_outbound(repo / "mesh")))
        g.git(repo, "init", "-q", "-b", "main")
        g.git(repo, "add", "-A")
        g.git(repo, "commit", "-q", "-m", "generated mesh")
        print(f"## Web console ({args.dataplanes} Dataplanes, {args.policies} policies)\n")
        print(
            f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}.\n"
        )
        for line in run(g, repo, work, args):
            print(line)


def run(g: Any, repo: Path, work: Path, args: argparse.Namespace) -> list[str]:
    from datetime import UTC, datetime, timedelta

    from reconciler.identity.tokens import load_or_create_signer
    from reconciler.journal import Journal

    state = work / "state"
    nodes = g.node_ids(repo / "mesh")[: args.proxies]
    signer = load_or_create_signer(state)
    now = datetime.now(UTC)
    tokens = {n: signer.issue(n, ttl=timedelta(hours=4), now=now)[0] for n in nodes}
    (work / "tokens.json").write_text(json.dumps(tokens))
    (work / "secret").write_bytes(g.SECRET)
    xds_port, http_port = g.free_port(), g.free_port()
    http = f"http://127.0.0.1:{http_port}"
    log = (work / "serve.log").open("w")
    server = g.Proc(
        [
            str(Path(sys.executable).parent / "reconciler"),
            "serve",
            repo.as_uri(),
            "--path",
            "mesh",
            "--state-dir",
            str(state),
            "--interval",
            "1h",
            "--webhook-secret-file",
            str(work / "secret"),
            "--xds-address",
            f"127.0.0.1:{xds_port}",
            "--http-address",
            f"127.0.0.1:{http_port}",
            "--log-level",
            "warning",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    clients = None
    browser = None
    try:
        journal = Journal(state)
        g.wait_until(lambda: journal.last() is not None, 600, "the first revision")
        clients = g.Proc(
            [
                sys.executable,
                str(BENCH / "gitops.py"),
                "--clients",
                f"127.0.0.1:{xds_port}",
                str(work / "tokens.json"),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        clients.read()
        wanted = json.dumps(g.current_versions(http, set(nodes)))
        g.wait_until(
            lambda: clients.cmd(f"acked {wanted}")["nodes"] >= len(nodes) or None,
            600,
            "every client to ACK the first revision",
        )
        sha = g.Editor(repo).commit()
        assert g.post_webhook(http, sha, "bench-console") == 202
        g.wait_until(
            lambda: (e := journal.last()) is not None and e.sha == sha, 120, "the edit applied"
        )
        with urllib.request.urlopen(f"{http}/status", timeout=60) as response:
            status = json.load(response)
        connected = sum(1 for p in status["proxies"] if p["connected"])
        entry = journal.last()
        assert entry is not None
        proxy = entry.proxies[0]
        first_diff, _ = fetch(f"{http}/console/revisions/{sha}")
        first_policies, _ = fetch(f"{http}/console/policies")
        if shutil.which("chromium") and shutil.which("chromedriver"):
            browser = Chromium()
        pages = [
            ("revisions", f"{http}/console/revisions"),
            (
                f"revision diff ({len(entry.proxies)} proxies changed)",
                f"{http}/console/revisions/{sha}",
            ),
            (
                f"proxies (first page: 200 of {len(status['proxies'])})",
                f"{http}/console/proxies",
            ),
            ("one proxy (provenance + served config)", f"{http}/console/proxies/{proxy}"),
            ("policies (first page: 200, selected counts)", f"{http}/console/policies"),
            ("one policy", f"{http}/console/policies/MeshTimeout/default/bench-timeout"),
        ]
        rows = measure(pages, args.loads, browser)
    except BaseException:
        log.flush()
        tail = (work / "serve.log").read_text().splitlines()[-30:]
        print("serve.log (last lines):", *tail, sep="\n", file=sys.stderr)
        raise
    finally:
        if browser is not None:
            browser.stop()
        if clients is not None:
            clients.stop()
        server.stop()
        log.close()
    return [
        f"### Console page load with {connected} connected proxies",
        "",
        f"Median and max of {args.loads} loads per page, while the {connected} simulated "
        "clients stay connected. HTTP: the whole response read; Chromium: navigation start "
        "to the load event.",
        "",
        "| page | size (KiB) | HTTP p50 (ms) | HTTP max (ms) | Chromium p50 (ms) | Chromium max (ms) |",
        "|---|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"First loads, which compute what later loads reuse: the revision diff "
        f"{first_diff * 1000:.0f} ms, the policies page (which proxies each policy selects, "
        f"from the compile's traces) {first_policies * 1000:.0f} ms.",
        "",
    ]


if __name__ == "__main__":
    main()
