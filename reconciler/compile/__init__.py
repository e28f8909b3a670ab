"""Stage ``compile``: valid resources -> ``{node id: ProxyConfig}`` of typed Envoy messages.

Input: the valid resources of a revision (``Analysis.resources``). Output: one
:class:`reconciler.resource_types.ProxyConfig` per Dataplane (node id ``<mesh>.<name>``),
listeners, routes, clusters and endpoints as xds-protos messages. Names come only from
:mod:`reconciler.compile.names`; each applied kind's plugin is in its folder
(``reconciler/kinds/<kind>/plugin.py``), found by :mod:`reconciler.compile.plugins`.
It must not read files, print, or import ``cli``/``serve``/``snapshot``; a problem that
validation could not catch becomes an RC5xx diagnostic, never a traceback.
"""

from __future__ import annotations

from reconciler.compile.compiler import Compiler, CompileResult, compile_resources

__all__ = ["CompileResult", "Compiler", "compile_resources"]
