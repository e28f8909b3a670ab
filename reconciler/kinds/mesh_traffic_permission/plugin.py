"""MeshTrafficPermission's compile step: RBAC on the mesh mTLS inbound chains.

Built by :mod:`reconciler.compile.mtls` with :mod:`reconciler.compile.permissions` (it
needs the inbound's TLS filter chains), so the plugin declares no hook.
"""

from __future__ import annotations

from reconciler.compile.plugin import PolicyBase
from reconciler.model import Kind


class MeshTrafficPermission(PolicyBase):
    kind = Kind.MESH_TRAFFIC_PERMISSION


PLUGIN = MeshTrafficPermission()
