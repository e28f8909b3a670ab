"""MeshHTTPRoute's compile step: the core builds its routes (``compile/http_routes.py``).

Kuma 2.14's ``meshhttproute`` plugin generates the outbound listeners and routes itself;
here the outbound builder does it, so the plugin only declares which section is merged.
"""

from __future__ import annotations

from reconciler.compile.context import Section
from reconciler.compile.plugin import PolicyBase
from reconciler.model import Kind


class MeshHTTPRoute(PolicyBase):
    kind = Kind.MESH_HTTP_ROUTE
    sections = frozenset({Section.TO})


PLUGIN = MeshHTTPRoute()
