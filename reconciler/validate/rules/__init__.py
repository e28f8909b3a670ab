"""The shared rule machinery and the cross-resource rules.

Rules of one kind live in the kind's folder (``reconciler/kinds/<kind>/validator.py``);
here are the pieces they share (findings, targetRefs, sections, values, the policy
opening, not-applied warnings) and the rules that see every resource at once. Each rule
returns diagnostics and never raises (it skips fields whose type is wrong).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from reconciler.diagnostics import Diagnostic
from reconciler.model import Resource
from reconciler.validate.rules import (
    cross_duplicates,
    cross_mesh,
    cross_ports,
    cross_selection,
    cross_services,
)

CrossResourceRule = Callable[[Sequence[Resource]], Iterable[Diagnostic]]

CROSS_RESOURCE_RULES: tuple[CrossResourceRule, ...] = (
    cross_duplicates.check,
    cross_mesh.check,
    cross_services.check,
    cross_selection.check,
    cross_ports.check,
)
