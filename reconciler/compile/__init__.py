"""Stage ``compile``: valid resources -> ``{node id: ProxyConfig}`` of typed Envoy messages.

Input: the valid resources of a revision (``Analysis.resources``). Output: one
:class:`reconciler.resource_types.ProxyConfig` per Dataplane (node id ``<mesh>.<name>``),
listeners, routes, clusters and endpoints as xds-protos messages. Names come only from
:mod:`reconciler.names`; each applied kind's plugin is in its folder
(``reconciler/kinds/<kind>/plugin.py``), found by :mod:`reconciler.compile.plugins`.
Import what you need from its modules (:mod:`reconciler.compile.compiler` for the entry
points): importing the package loads none of the compiler.
It must not read files, print, or import ``cli``/``serve``/``snapshot``; a problem that
validation could not catch becomes an RC5xx diagnostic, never a traceback.
"""

from __future__ import annotations
