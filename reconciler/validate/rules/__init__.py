"""Semantic rules: one module per family, registered here explicitly.

``RESOURCE_RULES[kind]`` lists the checks of one resource of that kind; each returns
diagnostics and never raises (skip fields whose type is wrong). ``CROSS_RESOURCE_RULES``
see every loaded resource at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from reconciler.diagnostics import Diagnostic
from reconciler.model import Resource

ResourceRule = Callable[[Resource], Iterable[Diagnostic]]
CrossResourceRule = Callable[[Sequence[Resource]], Iterable[Diagnostic]]

RESOURCE_RULES: dict[str, tuple[ResourceRule, ...]] = {}
CROSS_RESOURCE_RULES: tuple[CrossResourceRule, ...] = ()
