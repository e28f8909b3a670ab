"""MeshTrafficPermission: who may call an inbound, compiled to Envoy RBAC (Kuma 2.14).

Only with mesh mTLS (Kuma skips the policy when mTLS is off: without identities a proxy
cannot tell its peers apart). Kuma 2.14 semantics, ``pkg/plugins/policies/
meshtrafficpermission`` (plugin ``Apply`` and the legacy RBAC configurer):

* ``from[]`` entries of every policy selecting the inbound (targetRef ``Mesh``,
  ``MeshSubset{tags}``, ``MeshService{name}``, ``MeshServiceSubset{name, tags}``) are
  ordered least specific first (policy targetRef kind, entry kind, name inverted) and, for a
  given source, **the last entry that matches it decides** (Kuma's subset rules merge the
  matching confs in that order). They are not merged into one action by specificity only.
* The decision space is cut into subset rules over the tags the entries name, with
  negations (``service != frontend``); each rule becomes an RBAC principal: a service is
  ``authenticated.principalName.exact: spiffe://<mesh>/<svc>``, another tag
  ``kuma://<tag>/<value>``; several tags are ``and_ids``, a negation ``not_id``.
* RBAC ``action: ALLOW`` with one policy ``MeshTrafficPermission`` listing the principals
  whose action is Allow or AllowWithShadowDeny; AllowWithShadowDeny principals also go to
  ``shadow_rules`` (action DENY), so Envoy counts them as shadow denials.
* **Default when mTLS is on and nothing allows**: an inbound with no MeshTrafficPermission
  gets deny-all (Kuma's ``denyRules()``; Kuma creates no allow-all MeshTrafficPermission for
  a new Mesh). Deny means 403 for HTTP inbounds, a closed connection for TCP.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from envoy.config.rbac.v3 import rbac_pb2 as envoy_rbac
from envoy.type.matcher.v3 import string_pb2 as envoy_string

from reconciler.compile.ordering import sort_entries
from reconciler.errors import CompileError
from reconciler.identity.spiffe import kuma_tag_uri, spiffe_id
from reconciler.model import Resource
from reconciler.targetref import SERVICE_TAG

ALLOW = "Allow"
DENY = "Deny"
ALLOW_WITH_SHADOW_DENY = "AllowWithShadowDeny"
POLICY_NAME = "MeshTrafficPermission"
MAX_TAGS = 12
"""Subset rules enumerate 2^n tag combinations: at most this many distinct (tag, value)
pairs may be named by the from[] entries of one inbound."""

Tag = tuple[str, str]


@dataclass(frozen=True, slots=True)
class FromEntry:
    """One ``from[]`` entry: the sources it matches (all of ``tags``) and its action."""

    policy: Resource
    index: int
    tags: tuple[Tag, ...]
    action: str

    def matches(self, source: Mapping[str, str]) -> bool:
        return all(source.get(k) == v for k, v in self.tags)

    @property
    def where(self) -> str:
        return f"{self.policy.kind} {self.policy.mesh}/{self.policy.name} from[{self.index}]"


@dataclass(frozen=True, slots=True)
class SubsetRule:
    """Sources having every ``(tag, value, negated)`` term get ``action``, per ``entry``."""

    terms: tuple[tuple[str, str, bool], ...]
    action: str
    entry: FromEntry


def entry_tags(ref: Mapping[str, Any]) -> tuple[Tag, ...] | None:
    """The source tags a from[] targetRef matches; None for a kind we cannot honour."""
    kind = ref.get("kind", "Mesh")
    tags = {str(k): str(v) for k, v in dict(ref.get("tags") or {}).items()}
    if kind == "Mesh":
        return ()
    if kind == "MeshSubset":
        return tuple(sorted(tags.items()))
    if kind in ("MeshService", "MeshServiceSubset") and ref.get("name"):
        tags[SERVICE_TAG] = str(ref["name"])
        return (
            tuple(sorted(tags.items()))
            if kind == "MeshServiceSubset"
            else ((SERVICE_TAG, str(ref["name"])),)
        )
    return None


def from_entries(policies: Sequence[Resource]) -> list[FromEntry]:
    """``from[]`` entries of ``policies`` (already selecting the inbound), in merge order."""
    raw: list[tuple[Resource, int, Mapping[str, Any]]] = []
    for policy in policies:
        entries = policy.spec.get("from")
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(entry, dict):
                raw.append((policy, i, entry))
    out: list[FromEntry] = []
    for policy, i, entry in sort_entries(raw):
        ref = entry.get("targetRef")
        tags = entry_tags(ref if isinstance(ref, dict) else {"kind": "Mesh"})
        default = entry.get("default")
        action = default.get("action") if isinstance(default, dict) else None
        if tags is not None and isinstance(action, str):
            out.append(FromEntry(policy, i, tags, action))
    return out


def decide(entries: Sequence[FromEntry], source: Mapping[str, str]) -> FromEntry | None:
    """The entry that decides for a source with these tags (None: nothing matches, deny)."""
    decided = None
    for entry in entries:
        if entry.matches(source):
            decided = entry
    return decided


def subset_rules(entries: Sequence[FromEntry]) -> list[SubsetRule]:
    """Kuma's subset rules: every consistent combination of the named tags (present or
    negated), with the entry that decides for it; combinations nobody matches are dropped."""
    tags = sorted({t for e in entries for t in e.tags})
    if len(tags) > MAX_TAGS:
        raise CompileError(
            f"MeshTrafficPermission: {len(tags)} distinct source tags select one inbound "
            f"(at most {MAX_TAGS}); split the from[] entries over fewer tags"
        )
    rules: list[SubsetRule] = []
    for signs in itertools.product((True, False), repeat=len(tags)):
        positive = {k: v for (k, v), s in zip(tags, signs, strict=True) if s}
        if len(positive) != sum(signs):
            continue  # two values of one tag: no source has both
        decided = decide(entries, positive)
        if decided is None:
            continue
        terms = tuple(
            (k, v, not s) for (k, v), s in zip(tags, signs, strict=True) if s or k not in positive
        )
        rules.append(SubsetRule(terms, decided.action, decided))
    return rules


def _principal(mesh: str, terms: tuple[tuple[str, str, bool], ...]) -> envoy_rbac.Principal:
    ids: list[envoy_rbac.Principal] = []
    for key, value, negated in terms:
        name = spiffe_id(mesh, value) if key == SERVICE_TAG else kuma_tag_uri(key, value)
        principal = envoy_rbac.Principal(
            authenticated=envoy_rbac.Principal.Authenticated(
                principal_name=envoy_string.StringMatcher(exact=name)
            )
        )
        ids.append(envoy_rbac.Principal(not_id=principal) if negated else principal)
    if not ids:
        return envoy_rbac.Principal(any=True)
    if len(ids) == 1:
        return ids[0]
    return envoy_rbac.Principal(and_ids=envoy_rbac.Principal.Set(ids=ids))


def _policy(principals: list[envoy_rbac.Principal]) -> envoy_rbac.Policy:
    return envoy_rbac.Policy(permissions=[envoy_rbac.Permission(any=True)], principals=principals)


def rbac_rules(
    mesh: str, rules: Sequence[SubsetRule]
) -> tuple[envoy_rbac.RBAC, envoy_rbac.RBAC | None]:
    """``(rules, shadow_rules)`` for the RBAC filter; an empty ALLOW denies everything."""
    allowed = [
        _principal(mesh, r.terms) for r in rules if r.action in (ALLOW, ALLOW_WITH_SHADOW_DENY)
    ]
    shadow = [_principal(mesh, r.terms) for r in rules if r.action == ALLOW_WITH_SHADOW_DENY]
    out = envoy_rbac.RBAC(action=envoy_rbac.RBAC.ALLOW)
    if allowed:
        out.policies[POLICY_NAME].CopyFrom(_policy(allowed))
    shadow_rules = None
    if shadow:
        shadow_rules = envoy_rbac.RBAC(action=envoy_rbac.RBAC.DENY)
        shadow_rules.policies[POLICY_NAME].CopyFrom(_policy(shadow))
    return out, shadow_rules
