"""The xDS server with real Envoys: traffic, routing changes under load, NACKs, restarts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from polling import wait_for
from xds_harness import App, Envoy, Load, PlaneThread, free_port, get

from proxy_configs import eds_cluster, inbound_proxy, outbound_proxy  # isort: skip
from reconciler.resource_types import TypeUrl

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

PROTOCOLS = [pytest.param(True, id="sotw"), pytest.param(False, id="delta")]


class Stack:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.items: list[Any] = []

    def add(self, item: Any) -> Any:
        self.items.append(item)
        return item

    def envoy(self, plane: PlaneThread, node_id: str, *, sotw: bool) -> Envoy:
        return self.add(Envoy(self.tmp_path / node_id, node_id, plane.xds_port, sotw=sotw))  # type: ignore[no-any-return]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    s = Stack(tmp_path)
    try:
        yield s
    finally:
        for item in reversed(s.items):
            item.stop()


def frontend(listen: tuple[str, int], services: dict[str, Any], route_to: str) -> Any:
    return outbound_proxy("default.frontend", listen, {route_to: 1}, services, retries=0)


@pytest.mark.parametrize("sotw", PROTOCOLS)
def test_traffic_flows_through_outbound_and_inbound_listeners(stack: Stack, sotw: bool) -> None:
    app = stack.add(App("backend-app"))
    plane = stack.add(PlaneThread())
    inbound = ("127.0.0.3", free_port("127.0.0.3"))
    outbound = ("127.0.0.2", free_port("127.0.0.2"))
    plane.publish(
        inbound_proxy("default.backend", inbound, app.endpoint),
        frontend(outbound, {"backend": [inbound]}, "backend"),
    )
    stack.envoy(plane, "default.backend", sotw=sotw)
    stack.envoy(plane, "default.frontend", sotw=sotw)
    assert wait_for(lambda: get(outbound) == "backend-app", 20, "traffic through both Envoys")
    for node in ("default.frontend", "default.backend"):
        wait_for(lambda n=node: plane.settled(n), 10, f"{node} ACKs")
        proxy = plane.proxy(node)
        assert proxy["connected"] and proxy["protocol"] == ("sotw" if sotw else "delta")


@pytest.mark.parametrize("sotw", PROTOCOLS)
def test_routing_change_under_load_loses_no_request(stack: Stack, sotw: bool) -> None:
    """Route v1 -> v2 where v2 is a new cluster and v1's cluster is removed: make-before-break."""
    v1, v2 = stack.add(App("v1")), stack.add(App("v2"))
    plane = stack.add(PlaneThread())
    listen = ("127.0.0.2", free_port("127.0.0.2"))
    plane.publish(frontend(listen, {"svc-v1": [v1.endpoint]}, "svc-v1"))
    envoy = stack.envoy(plane, "default.frontend", sotw=sotw)
    wait_for(lambda: get(listen) == "v1", 20, "first config")
    wait_for(lambda: plane.settled("default.frontend"), 10, "ACKs")
    load = stack.add(Load(listen))
    wait_for(lambda: len(load.answers) > 50, 10, "load running")
    plane.publish(frontend(listen, {"svc-v2": [v2.endpoint]}, "svc-v2"))
    wait_for(lambda: load.answers and load.answers[-1] == "v2", 15, "traffic moved to v2")
    wait_for(lambda: plane.settled("default.frontend"), 10, "ACKs of the change")
    wait_for(lambda: envoy.stat("cluster_manager.active_clusters") == 2, 10, "v1 removed")
    seen = len(load.answers)
    wait_for(lambda: len(load.answers) > seen + 50, 10, "load after the change")
    load.stop()
    assert load.errors == [], load.errors[:5]
    first_v2 = load.answers.index("v2")
    assert set(load.answers[:first_v2]) == {"v1"}
    assert set(load.answers[first_v2:]) == {"v2"}, "traffic flapped back"


@pytest.mark.parametrize("sotw", PROTOCOLS)
def test_nacked_resource_leaves_previous_config_serving(stack: Stack, sotw: bool) -> None:
    v1 = stack.add(App("v1"))
    plane = stack.add(PlaneThread())
    listen = ("127.0.0.2", free_port("127.0.0.2"))
    good = frontend(listen, {"svc": [v1.endpoint]}, "svc")
    plane.publish(good)
    stack.envoy(plane, "default.frontend", sotw=sotw)
    wait_for(lambda: plane.settled("default.frontend"), 20, "first config ACKed")
    acked_cds = plane.proxy("default.frontend")["versions"]["CDS"]["acked"]
    load = stack.add(Load(listen))
    bad = frontend(listen, {"svc": [v1.endpoint]}, "svc")
    broken = eds_cluster("svc")
    broken.lb_policy = 99  # proto3 enums are open: serializes fine, Envoy's validation rejects
    bad.resources[TypeUrl.CLUSTER] = [broken]
    plane.publish(bad)
    nack = wait_for(lambda: plane.proxy("default.frontend")["lastNack"], 10, "the NACK")
    assert nack["type"] == "CDS"
    assert "LbPolicy" in nack["message"]
    wait_for(lambda: len(load.answers) > 100, 10, "traffic after the NACK")
    load.stop()
    assert load.errors == [] and set(load.answers) == {"v1"}
    versions = plane.proxy("default.frontend")["versions"]["CDS"]
    assert versions["acked"] == acked_cds and versions["nacked"] == versions["sent"]
    pushes = plane.pushes()
    # nothing re-sent while the bad version stays published; a fixed revision goes through
    assert plane.pushes() == pushes
    plane.publish(good)
    wait_for(lambda: plane.settled("default.frontend"), 10, "the fixed revision ACKed")


@pytest.mark.parametrize("sotw", PROTOCOLS)
def test_server_restart_under_load_loses_nothing_and_repushes_nothing(
    stack: Stack, sotw: bool
) -> None:
    app = stack.add(App("backend-app"))
    xds_port = free_port()
    plane = PlaneThread(xds_port)
    inbound = ("127.0.0.3", free_port("127.0.0.3"))
    outbound = ("127.0.0.2", free_port("127.0.0.2"))
    configs = (
        inbound_proxy("default.backend", inbound, app.endpoint),
        frontend(outbound, {"backend": [inbound]}, "backend"),
    )
    plane.publish(*configs)
    stack.envoy(plane, "default.backend", sotw=sotw)
    stack.envoy(plane, "default.frontend", sotw=sotw)
    for node in ("default.frontend", "default.backend"):
        wait_for(lambda n=node: plane.settled(n), 20, f"{node} ACKs")
    before = {n: plane.proxy(n)["versions"] for n in ("default.frontend", "default.backend")}
    load = stack.add(Load(outbound))
    wait_for(lambda: len(load.answers) > 50, 10, "load running")
    plane.stop()
    served_while_down = len(load.answers)
    wait_for(lambda: len(load.answers) > served_while_down + 50, 10, "traffic with no server")
    plane = stack.add(PlaneThread(xds_port))
    plane.publish(*configs)
    for node in ("default.frontend", "default.backend"):
        wait_for(lambda n=node: plane.proxy(n)["connected"], 20, f"{node} reconnects")
        wait_for(lambda n=node: plane.settled(n), 10, f"{node} versions")
    after = {n: plane.proxy(n)["versions"] for n in before}
    for node in before:
        for type_short, versions in before[node].items():
            assert after[node][type_short]["acked"] == versions["acked"], (node, type_short)
    assert plane.pushes() == 0, "a reconnect with identical content must push nothing"
    seen = len(load.answers)
    wait_for(lambda: len(load.answers) > seen + 50, 10, "traffic after the restart")
    load.stop()
    assert load.errors == [], load.errors[:5]
    assert set(load.answers) == {"backend-app"}


@pytest.mark.parametrize("sotw", PROTOCOLS)
def test_changed_cluster_does_not_stall_warming(stack: Stack, sotw: bool) -> None:
    """A changed cluster whose endpoints did not change must not warm for the EDS timeout."""
    v1 = stack.add(App("v1"))
    plane = stack.add(PlaneThread())
    listen = ("127.0.0.2", free_port("127.0.0.2"))
    plane.publish(frontend(listen, {"svc": [v1.endpoint]}, "svc"))
    envoy = stack.envoy(plane, "default.frontend", sotw=sotw)
    wait_for(lambda: plane.settled("default.frontend"), 20, "first config ACKed")
    changed = frontend(listen, {"svc": [v1.endpoint]}, "svc")
    changed.resources[TypeUrl.CLUSTER] = [eds_cluster("svc", timeout_ms=2500)]
    updates = envoy.stat("cluster_manager.cds.update_success")
    plane.publish(changed)
    # Envoy's EDS initial_fetch_timeout is 15 s: a stall would blow through this bound
    wait_for(lambda: plane.settled("default.frontend"), 5, "the changed cluster ACKed")
    wait_for(lambda: envoy.stat("cluster_manager.warming_clusters") == 0, 5, "warming done")
    assert envoy.stat("cluster_manager.cds.update_success") > updates
    assert get(listen) == "v1"
