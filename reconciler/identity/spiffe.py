"""SPIFFE identities of the mesh (Kuma 2.x ``ServiceSpiffeID`` / ``MeshSpiffeIDPrefix``)."""

from __future__ import annotations

KUMA_ALPN = ("kuma",)
"""ALPN that Kuma 2.x sets on mesh-internal upstream TLS (``KumaALPNProtocols``)."""


def spiffe_id(mesh: str, service: str) -> str:
    """``spiffe://<mesh>/<kuma.io/service>``."""
    return f"spiffe://{mesh}/{service}"


def mesh_spiffe_prefix(mesh: str) -> str:
    """Every identity of the mesh starts with this: ``spiffe://<mesh>/``."""
    return f"spiffe://{mesh}/"


def kuma_tag_uri(tag: str, value: str) -> str:
    """``kuma://<tag>/<value>``: the tag SANs that ``MeshSubset`` sources match on."""
    return f"kuma://{tag}/{value}"
