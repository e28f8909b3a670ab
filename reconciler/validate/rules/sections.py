"""The ``to`` / ``from`` / ``rules`` sections of a policy: presence, exclusion, entries.

Each policy module states its own rules with these helpers, following its Kuma 2.14
``validator.go``; the messages are Kuma's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from reconciler import codes
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map, is_set
from reconciler.validate.rules.spiffe import spiffe_id_problem
from reconciler.validate.rules.targetrefs import check_target_ref

ConfCheck = Callable[[Findings, Path, object], None]
"""Checks one ``default`` block at the given path (the value may be absent or mistyped)."""

AT_LEAST_ONE_OF_TO_FROM_RULES = "at least one of 'from', 'to' or 'rules' has to be defined"
AT_LEAST_ONE_OF_TO_FROM = "at least one of 'from', 'to' has to be defined"
RULES_EXCLUDE_TO_FROM = "fields 'to' and 'from' must be empty when 'rules' is defined"
RULES_EXCLUDE_FROM = "field 'from' must be empty when 'rules' is defined"
NEEDS_ONE_ITEM = "needs at least one item"
MUST_NOT_BE_DEFINED = "must not be defined"

_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN = re.compile(rf"^{_DNS_LABEL}(\.{_DNS_LABEL})*$")
DNS1123_SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


def section(spec: Mapping[str, Any], name: str) -> Sequence[Any]:
    return as_list(spec.get(name))


def has(spec: Mapping[str, Any], name: str) -> bool:
    return len(section(spec, name)) > 0


def affects_inbounds(spec: Mapping[str, Any]) -> bool:
    """Kuma ``inbound.AffectsInbounds``: the policy has ``from`` or ``rules`` entries."""
    return has(spec, "from") or has(spec, "rules")


def forbid_section(f: Findings, spec: Mapping[str, Any], name: str, message: str) -> bool:
    """Report ``name`` as not allowed here if it has entries; True if it was reported."""
    if has(spec, name):
        f.add(codes.POLICY_SECTIONS, (name,), message)
        return True
    return False


def check_entries(
    f: Findings,
    spec: Mapping[str, Any],
    name: str,
    kinds: Collection[str],
    conf: ConfCheck | None,
) -> None:
    """Every ``to[]``/``from[]`` entry: its targetRef kind and fields, then its ``default``."""
    for i, entry in enumerate(section(spec, name)):
        if not isinstance(entry, dict):
            continue
        check_target_ref(
            f, (name, i, "targetRef"), entry.get("targetRef"), kinds, where=f"in {name}[]"
        )
        if conf is not None:
            conf(f, (name, i, "default"), entry.get("default"))


def check_rules(
    f: Findings, spec: Mapping[str, Any], conf: ConfCheck | None, *, matches: bool = True
) -> None:
    """Every inbound ``rules[]`` entry: its ``matches`` and its ``default``."""
    for i, rule in enumerate(section(spec, "rules")):
        if not isinstance(rule, dict):
            continue
        if matches:
            for j, match in enumerate(as_list(rule.get("matches"))):
                check_match(f, ("rules", i, "matches", j), match)
                m = as_map(match)
                if isinstance(match, dict) and m.get("spiffeID") is None and m.get("sni") is None:
                    f.add(
                        codes.SETTING_MISSING,
                        ("rules", i, "matches", j),
                        "must specify at least one of 'spiffeID' or 'sni'",
                    )
        if conf is not None:
            conf(f, ("rules", i, "default"), rule.get("default"))


def check_match(f: Findings, path: Path, match: object) -> None:
    """Kuma ``ValidateMatch``: a SPIFFE ID or an SNI value."""
    m = as_map(match)
    value = as_map(m.get("spiffeID")).get("value")
    problem = spiffe_id_problem(value) if isinstance(value, str) else None
    if problem is not None:
        # Kuma reports it at "spiffeID"; the position stays on the value
        found = Findings(f.resource)
        found.add(
            codes.NAME_FORMAT,
            (*path, "spiffeID", "value"),
            f"must be a valid Spiffe ID: {problem}",
        )
        f.merge_renamed(found, ".spiffeID.value", ".spiffeID")
    sni = m.get("sni")
    if isinstance(sni, dict):
        if not is_set(sni.get("type")):
            f.add(codes.SETTING_MISSING, (*path, "sni", "type"), "must be set")
        sni_value = sni.get("value")
        if sni_value == "":
            f.add(codes.SETTING_MISSING, (*path, "sni", "value"), "must be set")
        elif isinstance(sni_value, str):
            # k8s IsDNS1123Subdomain, whose messages Kuma passes on
            if len(sni_value) > 253:
                f.add(
                    codes.NAME_FORMAT,
                    (*path, "sni", "value"),
                    "must be no more than 253 characters",
                )
            if not DNS1123_SUBDOMAIN.match(sni_value):
                f.add(codes.NAME_FORMAT, (*path, "sni", "value"), DNS1123_SUBDOMAIN_MESSAGE)


def require_any(
    f: Findings, path: Path, conf: Mapping[str, Any], names: Sequence[str], message: str
) -> bool:
    """Report ``message`` at ``path`` unless one of ``names`` is present; True if present."""
    if any(conf.get(n) is not None for n in names):
        return True
    f.add(codes.SETTING_MISSING, path, message)
    return False


def at_least_one(*names: str) -> str:
    return f"must have at least one defined: {', '.join(names)}"
