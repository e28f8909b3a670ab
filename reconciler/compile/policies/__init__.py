"""Policy modules, one per kind, in an explicit registry.

``POLICIES`` maps a kind to its module's ``PLUGIN`` (a :class:`base.PolicyPlugin`). The
compiler merges each kind's sections in Kuma order and calls the plugin's hooks in registry
order. See ``README.md`` in this directory to add a kind.
"""

from __future__ import annotations

from reconciler.compile.policies import (
    mesh_access_log,
    mesh_circuit_breaker,
    mesh_fault_injection,
    mesh_health_check,
    mesh_http_route,
    mesh_load_balancing_strategy,
    mesh_rate_limit,
    mesh_retry,
    mesh_tcp_route,
    mesh_timeout,
    mesh_traffic_permission,
)
from reconciler.compile.policies.base import PolicyBase, PolicyPlugin

POLICIES: dict[str, PolicyPlugin] = {
    plugin.kind: plugin
    for plugin in (
        mesh_traffic_permission.PLUGIN,
        mesh_http_route.PLUGIN,
        mesh_tcp_route.PLUGIN,
        mesh_timeout.PLUGIN,
        mesh_retry.PLUGIN,
        mesh_circuit_breaker.PLUGIN,
        mesh_health_check.PLUGIN,
        mesh_load_balancing_strategy.PLUGIN,
        mesh_fault_injection.PLUGIN,
        mesh_rate_limit.PLUGIN,
        mesh_access_log.PLUGIN,
    )
}
"""Kind -> plugin. Hooks run in this order on each place they configure."""

__all__ = ["POLICIES", "PolicyBase", "PolicyPlugin"]
