"""Mesh identity: the builtin CA, per-proxy certificates, their rotation, proxy tokens.

Input: a mesh's ``mtls`` block (Kuma 2.14 ``Mesh.mtls`` with a ``builtin`` backend), the
services of each Dataplane, and a state directory. Output: X.509 material (the mesh CA,
one SPIFFE certificate per proxy), the SDS ``Secret`` messages that carry it, and signed
proxy tokens that the xDS server checks before it serves a stream.

Must not: log, render or put in status any private key (CA, leaf or token signing key);
write a key file without 0600 permissions or non-atomically; make a new proxy wait for key
generation on the serving path (keys come from a pre-generated pool).
"""

from __future__ import annotations
