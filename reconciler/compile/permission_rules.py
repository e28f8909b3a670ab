"""MeshTrafficPermission ``rules[]``: RBAC matchers on the peer's SPIFFE ID (Kuma 2.14).

Sources: Kuma ``meshtrafficpermission/plugin/v1alpha1/plugin.go`` (``Apply``: an inbound
with inbound rules, i.e. some selecting policy has ``rules[]``, gets the ``RBACConfigurer``
and its ``from[]`` entries are ignored), ``meshtrafficpermission/xds/rbac_configurer.go``
and ``pkg/envoy/builders/xds/matchers`` (``Matches``, ``SpiffeIDPredicate``,
``CombinedPredicate``, ``RbacAction``), ``core/rules/inbound/inboundrules.go`` (one rule per
``rules[]`` entry, policies least specific first):

* ``matcher``: a ``matcher_list`` with, for every rule in order, one field matcher for its
  ``deny`` list (action DENY), then for every rule one for ``allow`` + ``allowWithShadowDeny``
  (action ALLOW); ``on_no_match`` DENY named ``default``. A field matcher's predicate tests
  ``envoy.matching.inputs.uri_san`` (the peer certificate's URI SAN) against each
  ``spiffeID`` match (``Exact`` -> ``exact``, ``Prefix`` -> ``prefix``), one predicate or an
  ``or_matcher``; its action is named by the policy's KRI (``kri_mtp_<mesh>___<name>_``);
* ``shadow_matcher`` (only with ``allowWithShadowDeny``): those matches with action DENY,
  ``on_no_match`` DENY ``default``;
* HTTP inbounds get ``envoy.filters.http.rbac`` first in the HCM, others
  ``envoy.filters.network.rbac`` (``stat_prefix`` ``<listener>.``) first in the chain;
* an SNI match adds the TLS inspector (``hasSNIMatch``).

Where we differ on purpose: Kuma's ``matchesConfigurer`` keeps a field matcher whose matches
have no ``spiffeID`` (SNI only) with an empty predicate, which Envoy rejects; such a list is
left out here, so the rest of the listener stays valid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from envoy.config.rbac.v3 import rbac_pb2 as envoy_rbac
from xds.type.matcher.v3 import matcher_pb2 as xds_matcher

from reconciler.compile.builders.peer_matchers import matches_predicate
from reconciler.compile.kri import kri
from reconciler.compile.ordering import sort_policies
from reconciler.model import Resource

RBAC_ACTION = "envoy.filters.rbac.action"
DEFAULT_ACTION = "default"


@dataclass(frozen=True, slots=True)
class PermissionRule:
    """One ``rules[]`` entry of a MeshTrafficPermission selecting the inbound."""

    policy: Resource
    index: int
    conf: Mapping[str, Any]

    def matches(self, *lists: str) -> list[Mapping[str, Any]]:
        out: list[Mapping[str, Any]] = []
        for name in lists:
            value = self.conf.get(name)
            if isinstance(value, list):
                out.extend(m for m in value if isinstance(m, Mapping))
        return out


def inbound_rules(policies: Sequence[Resource]) -> list[PermissionRule]:
    """Kuma ``inbound.BuildRules``: the ``rules[]`` of ``policies`` (sorted least specific
    first), in order; empty when no policy has ``rules[]`` (the legacy ``from[]`` path)."""
    out: list[PermissionRule] = []
    for policy in sort_policies(policies):
        rules = policy.spec.get("rules")
        for i, rule in enumerate(rules if isinstance(rules, list) else []):
            default = rule.get("default") if isinstance(rule, dict) else None
            out.append(PermissionRule(policy, i, default if isinstance(default, dict) else {}))
    return out


def _action(name: str, action: int) -> xds_matcher.Matcher.OnMatch:
    on_match = xds_matcher.Matcher.OnMatch()
    on_match.action.name = RBAC_ACTION
    on_match.action.typed_config.Pack(
        envoy_rbac.Action(name=name, action=action), deterministic=True
    )
    return on_match


def field_matcher(
    matches: Sequence[Mapping[str, Any]], action: int, name: str
) -> xds_matcher.Matcher.MatcherList.FieldMatcher | None:
    """Kuma ``buildMatchers``: None when no match names a ``spiffeID``."""
    predicate = matches_predicate(matches)
    if predicate is None:
        return None
    out = xds_matcher.Matcher.MatcherList.FieldMatcher()
    out.predicate.CopyFrom(predicate)
    out.on_match.CopyFrom(_action(name, action))
    return out


def _matcher(
    fields: Sequence[xds_matcher.Matcher.MatcherList.FieldMatcher | None],
) -> xds_matcher.Matcher:
    matcher = xds_matcher.Matcher()
    kept = [f for f in fields if f is not None]
    if kept:
        matcher.matcher_list.matchers.extend(kept)
    matcher.on_no_match.CopyFrom(_action(DEFAULT_ACTION, envoy_rbac.RBAC.DENY))
    return matcher


def rbac_matchers(
    rules: Sequence[PermissionRule],
) -> tuple[xds_matcher.Matcher, xds_matcher.Matcher | None]:
    """``(matcher, shadow_matcher)`` of Kuma's ``RBACConfigurer``."""
    deny = [field_matcher(r.matches("deny"), envoy_rbac.RBAC.DENY, kri(r.policy)) for r in rules]
    allow = [
        field_matcher(
            r.matches("allow", "allowWithShadowDeny"), envoy_rbac.RBAC.ALLOW, kri(r.policy)
        )
        for r in rules
    ]
    with_shadow = [r for r in rules if r.conf.get("allowWithShadowDeny") is not None]
    shadow = [
        field_matcher(r.matches("allowWithShadowDeny"), envoy_rbac.RBAC.DENY, kri(r.policy))
        for r in with_shadow
    ]
    return _matcher([*deny, *allow]), (_matcher(shadow) if with_shadow else None)


def has_sni_match(rules: Sequence[PermissionRule]) -> bool:
    """Kuma ``hasSNIMatch``: the listener then needs the TLS inspector."""
    return any(
        m.get("sni") is not None
        for r in rules
        for m in r.matches("deny", "allow", "allowWithShadowDeny")
    )


def _matches_san(match: Mapping[str, Any], uri_san: str) -> bool:
    spiffe = match.get("spiffeID")
    if not isinstance(spiffe, Mapping):
        return False
    value = str(spiffe.get("value", ""))
    return uri_san.startswith(value) if spiffe.get("type") == "Prefix" else uri_san == value


def decide(rules: Sequence[PermissionRule], uri_san: str) -> tuple[str, PermissionRule | None]:
    """What the RBAC matcher decides for a peer whose URI SAN input is ``uri_san`` (Envoy
    joins a certificate's URI SANs with ``,``): the first matching field matcher (every
    rule's ``deny`` first, then the allow lists), else the ``default`` deny."""
    for rule in rules:
        if any(_matches_san(m, uri_san) for m in rule.matches("deny")):
            return "Deny", rule
    for rule in rules:
        if any(_matches_san(m, uri_san) for m in rule.matches("allow", "allowWithShadowDeny")):
            return "Allow", rule
    return "Deny", None
