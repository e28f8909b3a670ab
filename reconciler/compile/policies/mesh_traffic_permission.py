"""MeshTrafficPermission: validated, compiled to nothing until the mesh identity exists.

Without mTLS a proxy cannot tell its peers apart, so there is nothing to enforce. ``render``
shows :attr:`note` for every proxy the policy selects.
"""

from __future__ import annotations

from reconciler.compile.policies.base import PolicyBase
from reconciler.model import Kind


class MeshTrafficPermission(PolicyBase):
    kind = Kind.MESH_TRAFFIC_PERMISSION
    note = (
        "MeshTrafficPermission is validated but not enforced: it needs the mesh identity "
        "(mTLS), which is not compiled yet; all traffic is allowed"
    )


PLUGIN = MeshTrafficPermission()
