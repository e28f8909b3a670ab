"""The opening every policy shares: its top-level targetRef and its sections, read from data.

Kuma's policy validators all start the same way (``validator.go`` of each policy): the
top-level targetRef against the kinds the policy supports, which of ``to``/``from``/``rules``
must be present or must be empty, then every entry's targetRef and ``default`` block. What
differs between kinds is data, a :class:`~reconciler.kinds.spec.Shape` in the kind's folder;
a kind's own ``validator.py`` then adds only what is particular to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reconciler import codes
from reconciler.kinds.spec import Shape
from reconciler.validate.rules import sections as s
from reconciler.validate.rules import targetrefs as t
from reconciler.validate.rules.findings import Findings, Path, as_map

DefaultCheck = Callable[[Findings, Path, object, str], None]
"""Checks one ``default`` block: ``(findings, path, value, top-level targetRef kind)``."""

_REQUIRED_MESSAGES = {
    ("from", "to", "rules"): s.AT_LEAST_ONE_OF_TO_FROM_RULES,
    ("from", "to"): s.AT_LEAST_ONE_OF_TO_FROM,
    ("from", "rules"): "at least one of 'from' or 'rules' has to be defined",
}


def check_opening(
    f: Findings, spec: Mapping[str, Any], shape: Shape, default: DefaultCheck | None
) -> None:
    """Kuma's shared opening of a policy of this ``shape``; ``default`` checks each block."""
    top = t.top_kind(spec)
    t.check_target_ref(
        f,
        ("targetRef",),
        spec.get("targetRef"),
        shape.top,
        inbound_policy=s.affects_inbounds(spec),
        gateway_tags_allowed=shape.gateway_listener_tags,
        where="as top-level targetRef",
    )
    _exclusive(f, spec, shape)
    _required(f, spec, shape)
    if shape.own_sections:
        return

    def conf(f: Findings, path: Path, value: object) -> None:
        if value is not None and not isinstance(value, dict):
            return  # the schema reports the type
        if shape.default_needs and not s.require_any(
            f, path, as_map(value), shape.default_needs, shape.default_needs_message
        ):
            return
        if default is not None:
            default(f, path, value, top)

    narrowed = top in shape.narrowed
    if shape.from_:
        if narrowed and shape.narrowed_from:
            s.forbid_section(f, spec, "from", s.MUST_NOT_BE_DEFINED)
        else:
            s.check_entries(f, spec, "from", shape.from_, conf)
    if shape.to:
        kinds = shape.narrowed_to if narrowed else shape.to
        s.check_entries(f, spec, "to", kinds, conf if shape.to_defaults else None)
    if shape.rules:
        s.check_rules(f, spec, conf, matches=shape.rule_matches)


def _exclusive(f: Findings, spec: Mapping[str, Any], shape: Shape) -> None:
    if not (shape.rules and s.has(spec, "rules")):
        return
    if shape.to and (s.has(spec, "to") or s.has(spec, "from")):
        f.add(codes.POLICY_SECTIONS, (), s.RULES_EXCLUDE_TO_FROM)
    elif not shape.to and s.has(spec, "from"):
        f.add(codes.POLICY_SECTIONS, (), s.RULES_EXCLUDE_FROM)


def _required(f: Findings, spec: Mapping[str, Any], shape: Shape) -> None:
    names = shape.sections
    if not shape.required or any(s.has(spec, name) for name in names):
        return
    if names == ("to",):
        f.add(codes.POLICY_SECTIONS, ("to",), s.NEEDS_ONE_ITEM)
    else:
        f.add(codes.POLICY_SECTIONS, (), _REQUIRED_MESSAGES[names])
