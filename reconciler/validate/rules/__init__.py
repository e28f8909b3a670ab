"""Semantic rules: one module per family, registered here explicitly.

``RESOURCE_RULES[kind]`` lists the checks of one resource of that kind; each returns
diagnostics and never raises (skip fields whose type is wrong). ``CROSS_RESOURCE_RULES``
see every loaded resource at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from reconciler.diagnostics import Diagnostic
from reconciler.model import Kind, Resource
from reconciler.validate.rules import (
    cross_duplicates,
    cross_mesh,
    cross_ports,
    cross_selection,
    cross_services,
    dataplane,
    dataplane_probes,
    http_route,
    mesh,
    mesh_access_log,
    mesh_circuit_breaker,
    mesh_fault_injection,
    mesh_health_check,
    mesh_load_balancing_strategy,
    mesh_rate_limit,
    mesh_retry,
    mesh_timeout,
    mesh_traffic_permission,
    tcp_route,
    unsupported,
)

ResourceRule = Callable[[Resource], Iterable[Diagnostic]]
CrossResourceRule = Callable[[Sequence[Resource]], Iterable[Diagnostic]]

_POLICY_RULES: dict[str, ResourceRule] = {
    Kind.MESH_TRAFFIC_PERMISSION: mesh_traffic_permission.check,
    Kind.MESH_HTTP_ROUTE: http_route.check,
    Kind.MESH_TCP_ROUTE: tcp_route.check,
    Kind.MESH_TIMEOUT: mesh_timeout.check,
    Kind.MESH_RETRY: mesh_retry.check,
    Kind.MESH_CIRCUIT_BREAKER: mesh_circuit_breaker.check,
    Kind.MESH_HEALTH_CHECK: mesh_health_check.check,
    Kind.MESH_LOAD_BALANCING_STRATEGY: mesh_load_balancing_strategy.check,
    Kind.MESH_FAULT_INJECTION: mesh_fault_injection.check,
    Kind.MESH_RATE_LIMIT: mesh_rate_limit.check,
    Kind.MESH_ACCESS_LOG: mesh_access_log.check,
}

RESOURCE_RULES: dict[str, tuple[ResourceRule, ...]] = {
    Kind.MESH: (mesh.check, unsupported.check_mesh),
    Kind.DATAPLANE: (dataplane.check, dataplane_probes.check, unsupported.check_dataplane),
    **{kind: (rule, unsupported.check_policy) for kind, rule in _POLICY_RULES.items()},
}
CROSS_RESOURCE_RULES: tuple[CrossResourceRule, ...] = (
    cross_duplicates.check,
    cross_mesh.check,
    cross_services.check,
    cross_selection.check,
    cross_ports.check,
)
