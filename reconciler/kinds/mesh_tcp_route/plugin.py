"""MeshTCPRoute's compile step: the core builds its ``tcp_proxy`` (``compile/tcp_routes.py``)."""

from __future__ import annotations

from reconciler.compile.context import Section
from reconciler.compile.plugin import PolicyBase
from reconciler.model import Kind


class MeshTCPRoute(PolicyBase):
    kind = Kind.MESH_TCP_ROUTE
    sections = frozenset({Section.TO})


PLUGIN = MeshTCPRoute()
