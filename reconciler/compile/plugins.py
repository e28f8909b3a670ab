"""The compile registry: each applied kind's ``plugin.py`` (``PLUGIN``), derived from its folder.

A kind whose folder declares it "accepted, not applied" has no plugin; the validator warns
about it instead. Plugins are loaded on first use, so importing the compiler's modules
never loads every kind (and a kind's plugin may import any compiler module).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from reconciler.compile.plugin import PolicyPlugin
from reconciler.kinds import CATALOG, part


@cache
def plugins() -> Mapping[str, PolicyPlugin]:
    """Kind -> plugin, in the kinds' compile ``order``: hooks run in this order."""
    found: dict[str, PolicyPlugin] = {}
    for name, spec in CATALOG.items():
        module = part(spec, "plugin") if spec.is_policy else None
        if module is None:
            continue
        plugin: PolicyPlugin = module.PLUGIN
        if plugin.kind != name:
            raise ValueError(f"kinds/{spec.package}/plugin.py: PLUGIN.kind {plugin.kind!r}")
        found[name] = plugin
    return found
