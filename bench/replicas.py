"""Replica failover figures: kill the replica a real Envoy is connected to while traffic flows.

    .venv/bin/python bench/replicas.py [--runs 5]

Each run is the scenario of ``tests/e2e/test_replicas.py`` (``tests/e2e/replica_fleet.py``):
three ``reconciler serve`` processes following one local git repository (shared
``--mesh-ca`` and ``--token-key``), two real Envoys bootstrapped with all three replicas
(``reconciler bootstrap --xds-address`` x3), requests through web-01's outbound to
backend-01 over mTLS, one new connection each, in a loop. The replica web-01 is connected
to gets SIGKILL; the clock stops when web-01 is connected to another replica and has ACKed
there every type it is served (``/status`` polled every 20 ms, so up to 20 ms late).

Prints a markdown table: seconds from the kill to everything ACKed on another replica,
requests served and failed during the failover, responses the other replicas sent per type
(CDS, EDS, LDS, RDS: the goal is 0; SDS: the new replica's own leaf certificate) and the
CDS/LDS updates Envoy itself counted.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, bench/ is sys.path[0]; bench/validate.py would then shadow the `validate`
# package that xds-protos installs (and Envoy's protos import).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
for folder in ("tests", "tests/integration", "tests/e2e"):
    sys.path.insert(0, str(ROOT / folder))

from replica_fleet import WEB, Failover, Fleet  # noqa: E402
from xds_harness import Load  # noqa: E402


def one_run(workdir: Path) -> Failover:
    fleet = Fleet(workdir)
    try:
        fleet.assert_same_versions()
        load = Load(fleet.target, max_seconds=120)
        try:
            return fleet.kill_home_of(WEB, load)
        finally:
            load.stop()
    finally:
        fleet.stop()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    runs: list[Failover] = []
    for n in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="bench-replicas-") as tmp:
            runs.append(one_run(Path(tmp)))
        print(f"run {n + 1}: {runs[-1].seconds_to_acked * 1000:.0f} ms", flush=True)
    print(f"\nMachine: {platform.machine()}, Python {platform.python_version()}\n")
    print(
        "| run | kill to ACKed elsewhere (ms) | requests ok | requests failed "
        "| re-sent CDS/EDS/LDS/RDS | SDS sent | Envoy CDS/LDS updates |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n, run in enumerate(runs, 1):
        resent = sum(run.resent[t] for t in ("CDS", "EDS", "LDS", "RDS"))
        updates = run.envoy_updates["CDS"] + run.envoy_updates["LDS"]
        print(
            f"| {n} | {run.seconds_to_acked * 1000:.0f} | {run.requests_ok} "
            f"| {run.requests_failed} | {resent:.0f} | {run.resent['SDS']:.0f} | {updates} |"
        )
    times = [r.seconds_to_acked * 1000 for r in runs]
    print(
        f"\np50 kill to ACKed: **{statistics.median(times):.0f} ms** (max {max(times):.0f} ms); "
        f"requests failed: {sum(r.requests_failed for r in runs)}; "
        f"versions differing after the move: {sum(len(r.errors) for r in runs)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
