"""Kuma Resource Identifiers, as Kuma 2.14 names policies in Envoy config (RBAC actions,
filter names): ``kri_<short name>_<mesh>_<zone>_<namespace>_<name>_<section>``; on a
universal, zone-less control plane zone, namespace and section are empty (Kuma's REST
examples: ``kri_mtp_default___one_``)."""

from __future__ import annotations

from reconciler.model import Resource

SHORT_NAMES = {"MeshTrafficPermission": "mtp", "MeshFaultInjection": "mfi"}
"""Kuma ``ShortName`` of the kinds whose KRI this project emits."""


def kri(policy: Resource) -> str:
    return f"kri_{SHORT_NAMES[policy.kind]}_{policy.mesh or 'default'}___{policy.name}_"


def workload_kri(mesh: str, workload: str) -> str:
    """The KRI of the Workload a Dataplane's ``kuma.io/workload`` label names (short name
    ``wl``; no zone and no namespace on this control plane)."""
    return f"kri_wl_{mesh}___{workload}_"
