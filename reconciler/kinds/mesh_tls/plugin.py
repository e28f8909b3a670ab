"""MeshTLS: the mode, TLS versions and ciphers of the mesh's mTLS.

The core merges the ``from[]`` / ``rules[]`` confs per inbound; the proxy assembly applies them
where the mesh's mTLS is set up (``compile/mesh_tls.py``, after ``compile/mtls.py``), as Kuma's
plugin edits the generated listeners and clusters. No hook runs on unsecured resources.
"""

from __future__ import annotations

from reconciler.compile.context import Section
from reconciler.compile.plugin import PolicyBase


class MeshTLS(PolicyBase):
    kind = "MeshTLS"
    sections = frozenset({Section.FROM, Section.RULES})
    note = None


PLUGIN = MeshTLS()
