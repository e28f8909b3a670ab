"""The shared rule machinery and the cross-resource rules.

Rules of one kind live in the kind's folder (``reconciler/kinds/<kind>/validator.py``);
here are the pieces they share (findings, targetRefs, sections, values, the policy
opening, not-applied warnings) and the rules that see every resource at once. Each rule
returns diagnostics and never raises (it skips fields whose type is wrong).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from reconciler.diagnostics import Diagnostic
from reconciler.model import Resource
from reconciler.validate.rules import (
    cross_duplicates,
    cross_mesh,
    cross_ports,
    cross_selection,
    cross_services,
)
from reconciler.validate.rules.cross_view import CrossView

CrossResourceRule = Callable[[Sequence[Resource], CrossView], list[Diagnostic]]
"""A cross-resource rule: the diagnostics of one file's resources, the rest of the
repository read through the view (``cross_view.py``)."""

CROSS_RESOURCE_RULES: tuple[CrossResourceRule, ...] = (
    cross_duplicates.check,
    cross_mesh.check,
    cross_services.check,
    cross_selection.check,
    cross_ports.check,
)
