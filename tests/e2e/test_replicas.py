"""Three ``reconciler serve`` replicas, real Envoys bootstrapped with all three (``reconciler
bootstrap --xds-address`` x3): kill the replica a proxy is connected to while traffic flows.

No request fails, the proxy reconnects to another replica and ACKs the versions it already
had there (CDS, EDS, LDS, RDS: nothing re-sent; SDS: that replica's own leaf certificate), a
new commit reaches every proxy on whichever replica it is, ``/status`` of each replica lists
its own proxies and ``reconciler status --server A --server B`` merges them.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from replica_fleet import NODES, REPLICATED, WEB, Fleet
from xds_harness import Load

from serve_process import RECONCILER  # isort: skip

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    made = Fleet(tmp_path)
    try:
        yield made
    finally:
        made.stop()


def test_killing_a_replica_loses_no_request_and_re_sends_nothing(fleet: Fleet) -> None:
    fleet.assert_same_versions()
    homes = fleet.connected()
    # each replica's /status lists the proxies connected to it, and only those
    for i in fleet.live():
        mine = {p["id"] for p in fleet.servers[i].status()["proxies"] if p["connected"]}
        assert mine == {node for node, home in homes.items() if home == i}

    load = Load(fleet.target, max_seconds=120)
    try:
        failover = fleet.kill_home_of(WEB, load)
        assert failover.new_home != failover.victim
        assert failover.requests_ok > 40
        assert failover.requests_failed == 0, load.errors[:5]
        assert failover.errors == []  # the ACKed versions are the ones held before
        assert {t: failover.resent[t] for t in REPLICATED} == dict.fromkeys(REPLICATED, 0)
        assert failover.envoy_updates == {"CDS": 0, "LDS": 0}

        # a new commit reaches every proxy, whichever replica it is connected to
        before = fleet.assert_same_versions()
        fleet.commit_timeout("7s")
        after = fleet.assert_same_versions()
        assert before[WEB]["RDS"] != after[WEB]["RDS"]
        assert before["default.backend-01"] == after["default.backend-01"]
        homes = fleet.connected()
        for node, i in homes.items():
            proxy = next(p for p in fleet.servers[i].status()["proxies"] if p["id"] == node)
            acked = {t: v["acked"] for t, v in proxy["versions"].items() if t in REPLICATED}
            assert acked and acked == {t: after[node][t] for t in acked}, (node, acked)
    finally:
        load.stop()
    assert load.errors == [], load.errors[:5]

    # `reconciler status` with every replica: one row per proxy, where it is connected; the
    # killed replica is reported unreachable
    servers = [arg for s in fleet.servers for arg in ("--server", s.url)]
    result = subprocess.run(
        [str(RECONCILER), "status", *servers, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr  # a replica is down
    merged = json.loads(result.stdout)
    rows = {p["id"]: p for p in merged["proxies"]}
    assert sorted(rows) == sorted(NODES)
    assert {node: rows[node]["server"] for node in NODES} == {
        node: fleet.servers[i].url for node, i in homes.items()
    }
    down = [s for s in merged["servers"] if s["error"]]
    assert [s["server"] for s in down] == [fleet.servers[failover.victim].url]
    assert merged["lastAppliedRevision"] == fleet.commits[-1]
    table = subprocess.run(
        [str(RECONCILER), "status", *servers],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert "unreachable" in table and all(node in table for node in NODES), table
